// What the tool tests share: a unique queue path per test, queues with known messages, and the
// tool's output parsed.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "support/temp_queue.hpp"
#include "support/child_process.hpp"

namespace shmq::test {

// The tool's command line: the shmq binary (SHMQ_TOOL_PATH), then `args`.
std::vector<std::string> tool_command(const std::vector<std::string>& args);
// Runs the tool to completion.
ProgramRun run_tool(const std::vector<std::string>& args);
// Runs the tool to completion on a new pseudo-terminal of `columns` x `rows`: `out` holds stdout
// and stderr together, with the terminal's "\r\n" for each newline.
ProgramRun run_tool_on_terminal(const std::vector<std::string>& args, unsigned short columns, unsigned short rows);

inline constexpr std::uint64_t kHeader = layout::kHeaderSize;
inline std::uint64_t record_size(std::size_t payload) { return layout::record_size(payload); }

// `v` as the 8 little-endian bytes the file stores, for overwrite().
inline std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &v, 8);
  return s;
}

class ToolTest : public ::testing::Test {
 protected:
  ToolTest() { shmq::logger()->set_level(spdlog::level::warn); }  // the library's attach messages are noise here

  const std::string& path() const { return path_; }

  void create(std::uint64_t capacity = 64 * 1024, bool checksums = false, std::uint64_t initial_position = 0) const {
    CreateOptions options;
    options.capacity = capacity;
    options.checksums = checksums;
    options.initial_position = initial_position;
    create_queue(path_, options);
  }

  static void send(Producer& producer, const std::vector<std::string>& messages) {
    for (const std::string& m : messages) ASSERT_TRUE(producer.try_send(m).ok()) << m;
  }

  // Receives and releases `n` messages.
  static void consume(Consumer& consumer, int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(consumer.try_receive().ok());
    consumer.release();
  }

  nlohmann::json stat_json() const {
    const ProgramRun run = run_tool({"stat", "--json", path_});
    EXPECT_EQ(run.exit_code, 0) << describe(run);
    return nlohmann::json::parse(run.out);
  }

  static std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> result;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
      result.push_back(text.substr(start, nl - start));
    }
    if (start < text.size()) result.push_back(text.substr(start));
    return result;
  }

  // Writes `bytes` at `offset` of the queue file (to inject damage).
  void overwrite(std::uint64_t offset, const std::string& bytes) const;

 private:
  TempQueue queue_;
  std::string path_ = queue_.str();
};

}  // namespace shmq::test
