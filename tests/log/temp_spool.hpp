// A fresh directory for one test (a spool, an output folder), removed with its contents at the end.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace shmq::log::test {

class TempDir {
 public:
  explicit TempDir(const std::filesystem::path& parent = "/dev/shm");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The names in `dir` (not recursive), sorted.
std::vector<std::string> names_in(const std::filesystem::path& dir);
// The queue files (`*.q`) in a spool, sorted.
std::vector<std::filesystem::path> spool_queues(const std::filesystem::path& spool);

}  // namespace shmq::log::test
