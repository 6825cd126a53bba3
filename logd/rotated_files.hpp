// The rotated files next to the output: `<output>.000001`, `<output>.000002.zst`, ...
//
// Six-digit numbers, so that names sort in rotation order. Compression and pruning run in a
// thread of the shipper, never on the applications' path and never holding up shipping:
// compress to a hidden temporary, fsync, rename to `.zst`, sync the directory, then remove the
// uncompressed file. A crash at any point leaves the uncompressed file, and the next start
// compresses it again.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace shmq::logd {

std::filesystem::path rotated_path(const std::filesystem::path& output, std::uint64_t number);

struct RotatedFile {
  std::uint64_t number = 0;
  std::filesystem::path path;
  bool compressed = false;
};
// The rotated files of `output` that exist now, oldest first.
std::vector<RotatedFile> list_rotated(const std::filesystem::path& output);

// zstd streaming compression of `from` into `to` (through a hidden temporary, synced and renamed).
void compress_file(const std::filesystem::path& from, const std::filesystem::path& to, int level);

class RotatedFiles {
 public:
  // keep: how many rotated files to keep (0: all); level < 1: no compression.
  RotatedFiles(std::filesystem::path output, unsigned keep, bool compress, int level);
  ~RotatedFiles();  // finishes the work queued, then stops the thread
  RotatedFiles(const RotatedFiles&) = delete;
  RotatedFiles& operator=(const RotatedFiles&) = delete;

  // Compress what needs it and prune beyond `keep` (after a rotation, and once at start).
  void tidy();

 private:
  void run();
  void tidy_now();
  std::filesystem::path output_;
  unsigned keep_;
  bool compress_;
  int level_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace shmq::logd
