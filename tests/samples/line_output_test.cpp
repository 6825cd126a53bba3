// Whole-line output (line_writer.hpp) and the partial last line a kill leaves (torn_line.hpp).
#include <cerrno>
#include <fstream>
#include <iterator>
#include <string>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "shmq_sample/line_writer.hpp"
#include "shmq_sample/torn_line.hpp"
#include "support/temp_queue.hpp"

namespace shmq_sample {
namespace {

class Pipe {
 public:
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read_ = fds[0];
    write_ = fds[1];
  }
  ~Pipe() {
    ::close(read_);
    ::close(write_);
  }
  int write_end() const { return write_; }
  std::string drain() const {
    std::string out;
    char buffer[4096];
    for (ssize_t n; (n = ::read(read_, buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<std::size_t>(n));
    return out;
  }

 private:
  int read_ = -1;
  int write_ = -1;
};

TEST(LineWriter, WritesOnlyWholeLinesAndALongLineAlone) {
  Pipe pipe;
  LineWriter lines(pipe.write_end(), "the pipe", 16);
  std::string written;
  std::string expected;
  for (const std::string line :
       {"one", "two three", "", "a line longer than the sixteen-byte buffer", "four", "five"}) {
    lines.write_line(line);
    expected += line + "\n";
    written += pipe.drain();
    ASSERT_TRUE(written.empty() || written.back() == '\n') << "a partial line reached the pipe: " << written;
  }
  lines.flush();
  written += pipe.drain();
  EXPECT_EQ(written, expected);
}

TEST(LineWriter, AWriteErrorNamesTheOutput) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[0]);
  ::signal(SIGPIPE, SIG_IGN);
  LineWriter lines(fds[1], "standard output");
  lines.write_line("nobody reads this");
  try {
    lines.flush();
    ADD_FAILURE() << "writing to a pipe without a reader must fail";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EPIPE);
    EXPECT_NE(std::string(e.what()).find("cannot write standard output"), std::string::npos) << e.what();
  }
  ::close(fds[1]);
}

class TornLineTest : public ::testing::Test {
 protected:
  // The file with `content`, opened as a shell's `>>` opens it.
  int append_to(const std::string& content) {
    { std::ofstream(file_.path(), std::ios::binary) << content; }
    fd_ = ::open(file_.path().c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    EXPECT_GE(fd_, 0);
    return fd_;
  }
  std::string content() const {
    std::ifstream in(file_.path(), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  ~TornLineTest() override {
    if (fd_ >= 0) ::close(fd_);
  }
  shmq::test::TempQueue file_;
  int fd_ = -1;
};

TEST_F(TornLineTest, APartialLastLineIsFoundAndCut) {
  const int fd = append_to("first\nsecond\nthi");
  const std::optional<TornLine> torn = find_torn_line(fd, 100);
  ASSERT_TRUE(torn.has_value());
  EXPECT_EQ(torn->text, "thi");
  cut_torn_line(fd, *torn);
  EXPECT_EQ(content(), "first\nsecond\n");
  ASSERT_EQ(::write(fd, "third\n", 6), 6);
  EXPECT_EQ(content(), "first\nsecond\nthird\n");
}

TEST_F(TornLineTest, AFileThatIsOnePartialLineIsFound) {
  const std::optional<TornLine> torn = find_torn_line(append_to("0123"), 4);
  ASSERT_TRUE(torn.has_value());
  EXPECT_EQ(torn->text, "0123");
}

TEST_F(TornLineTest, WholeLinesAnEmptyFileAndOverlongTailsAreLeftAlone) {
  EXPECT_FALSE(find_torn_line(append_to("first\nsecond\n"), 100).has_value());
  ::close(fd_);
  EXPECT_FALSE(find_torn_line(append_to(""), 100).has_value());
  ::close(fd_);
  EXPECT_FALSE(find_torn_line(append_to("first\nlonger than four"), 4).has_value());
  ::close(fd_);
  EXPECT_FALSE(find_torn_line(append_to("no newline at all, longer than four"), 4).has_value());
}

TEST_F(TornLineTest, AFileWrittenElsewhereThanAtItsEndIsLeftAlone) {
  { std::ofstream(file_.path(), std::ios::binary) << "first\nsec"; }
  fd_ = ::open(file_.path().c_str(), O_WRONLY | O_CLOEXEC);  // `1<>file`: offset 0, not the end
  ASSERT_GE(fd_, 0);
  EXPECT_FALSE(find_torn_line(fd_, 100).has_value());
}

TEST_F(TornLineTest, APipeHasNoTornLine) {
  Pipe pipe;
  EXPECT_FALSE(find_torn_line(pipe.write_end(), 100).has_value());
}

TEST_F(TornLineTest, AFileThatChangedSinceIsNotCut) {
  const int fd = append_to("first\nsec");
  const std::optional<TornLine> torn = find_torn_line(fd, 100);
  ASSERT_TRUE(torn.has_value());
  ASSERT_EQ(::write(fd, "ond\n", 4), 4);  // another writer
  EXPECT_THROW(cut_torn_line(fd, *torn), std::runtime_error);
  EXPECT_EQ(content(), "first\nsecond\n");
}

}  // namespace
}  // namespace shmq_sample
