// The read-only subcommands against the fuzzer's seed corpus (fuzz/corpus: real queue files in
// states worth starting from, see fuzz/make_corpus.cpp) and deterministic mutations of each file:
// bytes flipped at offsets drawn from a fixed seed, and the file cut to half its size. Whatever the
// file holds, each subcommand exits 0, 1 or 2 (never a signal), leaves the file byte for byte as it
// was, and on failure says which file.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <random>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool_fixture.hpp"

namespace shmq::test {
namespace {

const std::vector<std::vector<std::string>> kReadOnlyCommands = {
    {"stat"}, {"stat", "--json"}, {"verify"}, {"dump"}, {"dump", "--json"}, {"watch", "--count", "1"}};

struct Image {
  std::string name;
  std::vector<char> bytes;
};

// `count` bytes in [from, to) of `bytes` inverted, at offsets from a generator seeded with `seed`
// (mt19937_64's output is fixed by the standard; the modulo keeps the draw portable).
Image flipped(const std::string& name, std::vector<char> bytes, std::uint64_t seed, std::size_t from, std::size_t to) {
  std::mt19937_64 random(seed);
  to = std::min(to, bytes.size());
  for (int i = 0; i < 8 && from < to; ++i) {
    const std::size_t at = from + static_cast<std::size_t>(random() % (to - from));
    bytes[at] = static_cast<char>(~bytes[at]);
  }
  return {name, std::move(bytes)};
}

std::vector<Image> images_of(const std::filesystem::path& file) {
  const std::vector<char> original = read_file(file);
  const std::string base = file.filename().string();
  std::vector<char> half(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(original.size() / 2));
  return {
      {base, original},
      flipped(base + " with role and boot lines flipped", original, 1, 128, 768),
      flipped(base + " with ring bytes flipped", original, 2, kHeader, original.size()),
      flipped(base + " with bytes flipped anywhere", original, 3, 0, original.size()),
      {base + " cut to half", std::move(half)},
  };
}

// A private copy: mode 0600, owned by the caller (the tool opens only its user's files).
void write_image(const std::string& path, const std::vector<char>& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::fchmod(fd, 0600), 0);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

// The corpus files, sorted: one test each. None when the directory cannot be read (CorpusIsThere
// fails then): this runs before main(), where an exception would abort every tool test.
std::vector<std::string> corpus_files() {
  std::vector<std::string> names;
  std::error_code error;
  for (std::filesystem::directory_iterator it(SHMQ_FUZZ_CORPUS_DIR, error), end; !error && it != end;
       it.increment(error)) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ToolCorpus : public ToolTest, public ::testing::WithParamInterface<std::string> {};

TEST(ToolCorpusFiles, CorpusIsThere) {
  EXPECT_GE(corpus_files().size(), 12u) << "expected the seed corpus in " SHMQ_FUZZ_CORPUS_DIR;
}

TEST_P(ToolCorpus, ReadOnlyCommandsOnTheFileAndItsMutations) {
  int failures_named = 0;
  for (const Image& image : images_of(std::filesystem::path(SHMQ_FUZZ_CORPUS_DIR) / GetParam())) {
    write_image(path(), image.bytes);
    for (std::vector<std::string> args : kReadOnlyCommands) {
      std::string command = args.front();
      for (std::size_t i = 1; i < args.size(); ++i) command += " " + args[i];
      args.push_back(path());
      const ProgramRun run = run_tool(args);
      SCOPED_TRACE(image.name + ": shmq " + command);
      EXPECT_EQ(run.signal, 0) << describe(run);
      EXPECT_TRUE(run.exit_code == 0 || run.exit_code == 1 || run.exit_code == 2) << describe(run);
      EXPECT_TRUE(read_file(path()) == image.bytes) << "the file changed";
      if (run.exit_code != 0) {
        // verify reports the damage it found on stdout, as its result; every other failure is on stderr
        const std::string& report = command == "verify" && run.exit_code == 1 ? run.out : run.err;
        EXPECT_NE(report.find(path() + ": "), std::string::npos) << describe(run);
        ++failures_named;
      }
    }
  }
  EXPECT_GT(failures_named, 0);  // at least the file cut to half fails: the error paths were taken
  RecordProperty("failures_named", failures_named);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ToolCorpus, ::testing::ValuesIn(corpus_files()),
                         [](const ::testing::TestParamInfo<std::string>& file) { return file.param; });

}  // namespace
}  // namespace shmq::test
