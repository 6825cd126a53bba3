// The walkthroughs of README.md and docs/BRIDGE.md, run as written: each is the shell block after
// a `<!-- walkthrough -->` line. Only the places are changed, so that the run stays inside the
// test: port 4222 becomes a free port, /tmp/shmq-js a fresh store and /dev/shm/ a fresh directory.
// The harness around the script kills what the script started if it fails half-way.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "bridge_programs.hpp"
#include "nats_server.hpp"

namespace shmq {
namespace {

using test::ChildProcess;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The ```sh block after the marker; empty when there is none.
std::string walkthrough(const std::string& document) {
  const std::string marker = "<!-- walkthrough -->";
  const std::string::size_type at = document.find(marker);
  if (at == std::string::npos) return "";
  const std::string::size_type open = document.find("```sh\n", at);
  const std::string::size_type close = document.find("\n```", open + 6);
  if (open == std::string::npos || close == std::string::npos) return "";
  return document.substr(open + 6, close - open - 6 + 1);
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::string::size_type at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

void run_walkthrough(const std::string& document) {
  std::string script = walkthrough(read_text(std::filesystem::path(SHMQ_SOURCE_DIR) / document));
  ASSERT_FALSE(script.empty()) << document << " has no walkthrough";
  const test::TempQueue dir;  // a unique path for the walkthrough's queues
  const test::TempQueue store("/tmp");
  std::filesystem::create_directory(dir.path());
  replace_all(script, "4222", std::to_string(test::free_port()));
  replace_all(script, "/tmp/shmq-js", store.str());
  replace_all(script, "/dev/shm/", dir.str() + "/");
  std::string path;
  for (const char* program :
       {SHMQ_BRIDGE_PATH, SHMQ_PRODUCER_PATH, SHMQ_CONSUMER_PATH, SHMQ_TOOL_PATH, SHMQ_NATS_SERVER_PATH}) {
    path += std::filesystem::path(program).parent_path().string() + ":";
  }
  const std::string harness = "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n";
  ChildProcess run(
      {"/usr/bin/env", "PATH=" + path + "/usr/bin:/bin", "bash", "-euo", "pipefail", "-c", harness + script});
  EXPECT_EQ(run.exit_code(), 0) << script << run.describe();
  EXPECT_NE(run.err().find("0 gaps, 0 duplicates, 0 corrupt"), std::string::npos) << run.describe();
  std::error_code ignored;
  std::filesystem::remove_all(dir.path(), ignored);
  std::filesystem::remove_all(store.path(), ignored);
}

TEST(BridgeWalkthrough, TheReadmesRunsAsWritten) { run_walkthrough("README.md"); }

TEST(BridgeWalkthrough, BridgeMdsRunsAsWritten) { run_walkthrough("docs/BRIDGE.md"); }

}  // namespace
}  // namespace shmq
