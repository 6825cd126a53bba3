// Careful file handling for the shipper: errors that name the file, directory syncs, files
// replaced atomically, and the lock that keeps a second shipper off the same files.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace shmq::logd {

// A failure the shipper cannot work around; what() names the file and the cause.
class FileError : public std::runtime_error {
 public:
  FileError(const std::filesystem::path& path, const std::string& cause, int err = 0);
};

// fsync of a directory, so that names created, renamed or removed in it survive power loss.
void sync_directory(const std::filesystem::path& dir);

// Writes `content` to `<dir>/.<name>.tmp`, fsyncs it, renames it over `target` and syncs the
// directory: a crash leaves either the old or the new content, never a mix.
void replace_file(const std::filesystem::path& target, std::string_view content, bool durable = true);

// A small file's whole content (at most 64 MiB); exists is false when there is no such file.
struct FileText {
  bool exists = false;
  std::string text;
};
FileText read_small_file(const std::filesystem::path& path);

// An exclusive flock held for the object's life; throws FileError naming the holder's file when
// another process has it.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace shmq::logd
