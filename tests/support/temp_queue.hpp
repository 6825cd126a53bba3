// A unique queue path for one test, removed (with any temporary leftovers) when the test ends.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace shmq::test {

class TempQueue {
 public:
  // A fresh path `<dir>/shmq-test-<test name>-<pid>-<n>` that does not exist yet.
  explicit TempQueue(const std::filesystem::path& dir = "/dev/shm");
  ~TempQueue();
  TempQueue(const TempQueue&) = delete;
  TempQueue& operator=(const TempQueue&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// The whole file, for byte-for-byte comparisons.
std::vector<char> read_file(const std::filesystem::path& path);

// Deterministic seeded randomness; the seed is printed by the test that draws it.
std::uint64_t test_seed();

}  // namespace shmq::test
