// New names in the spool directory, from inotify.
//
// The watch is added before the first scan, so a queue created between the two is seen by one or
// the other (names seen twice are the caller's to ignore). It watches IN_CREATE and IN_MOVED_TO
// (a queue appears by linkat or rename, complete); when the kernel's event queue overflows, the
// next call rescans the whole directory.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace shmq::logd {

class SpoolWatch {
 public:
  explicit SpoolWatch(std::filesystem::path spool);  // throws FileError
  ~SpoolWatch();
  SpoolWatch(const SpoolWatch&) = delete;
  SpoolWatch& operator=(const SpoolWatch&) = delete;

  // The first call: every name in the directory. Later calls: the names that appeared since
  // (every name again after an overflow). Never blocks.
  std::vector<std::string> new_names();
  // Waits up to `timeout_ms` for an event (for the shipper's idle wait).
  void wait(int timeout_ms);

 private:
  std::vector<std::string> scan() const;
  std::filesystem::path spool_;
  int fd_ = -1;
  bool scanned_ = false;
};

}  // namespace shmq::logd
