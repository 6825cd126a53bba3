#include "temp_spool.hpp"

#include <algorithm>
#include <atomic>

#include <gtest/gtest.h>
#include <unistd.h>

#include "shmq/log/spool.hpp"

namespace shmq::log::test {

TempDir::TempDir(const std::filesystem::path& parent) {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "no-test";
  std::replace(name.begin(), name.end(), '/', '_');
  path_ = parent / ("shmq-log-test-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::filesystem::path> spool_queues(const std::filesystem::path& spool) {
  std::vector<std::filesystem::path> queues;
  for (const std::string& name : names_in(spool)) {
    if (classify_spool_name(name) == SpoolEntry::queue) queues.push_back(spool / name);
  }
  return queues;
}

}  // namespace shmq::log::test
