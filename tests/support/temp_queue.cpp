#include "support/temp_queue.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <unistd.h>

namespace shmq::test {

TempQueue::TempQueue(const std::filesystem::path& dir) {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "no-test";
  for (char& c : name)
    if (c == '/') c = '_';
  path_ = dir / ("shmq-test-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove(path_);
}

TempQueue::~TempQueue() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
  // A failed create may leave nothing behind; check that no temporary name survived either.
  const std::string prefix = "." + path_.filename().string() + ".creating.";
  for (const auto& entry : std::filesystem::directory_iterator(path_.parent_path(), ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) {
      ADD_FAILURE() << "temporary file left behind: " << entry.path();
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

std::vector<char> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint64_t test_seed() {
  if (const char* s = std::getenv("SHMQ_TEST_SEED")) return std::strtoull(s, nullptr, 0);
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace shmq::test
