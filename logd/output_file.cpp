#include "output_file.hpp"

#include <cerrno>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.hpp"

namespace shmq::logd {

OutputFile::OutputFile(std::filesystem::path path, std::optional<std::uint64_t> recorded_length)
    : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd_ < 0) throw FileError(path_, "cannot open the output", errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw FileError(path_, "cannot stat the output", errno);
  if (!S_ISREG(st.st_mode)) throw FileError(path_, "the output is not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  synced_ = size;
  if (recorded_length) {
    if (size > *recorded_length) {
      if (::ftruncate(fd_, static_cast<off_t>(*recorded_length)) != 0)
        throw FileError(path_, "cannot cut the output back", errno);
      if (::fdatasync(fd_) != 0) throw FileError(path_, "cannot sync the output", errno);
      synced_ = *recorded_length;
    } else if (size < *recorded_length) {
      lost_ = *recorded_length - size;
    }
  }
  sync_directory(path_.parent_path());  // a newly created output's name
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void OutputFile::append_line(std::string_view line) {
  buffer_.append(line);
  buffer_.push_back('\n');
}

void OutputFile::sync() {
  std::string_view data = buffer_;
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(synced_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw FileError(path_, "cannot write the output", n < 0 ? errno : EIO);
    data.remove_prefix(static_cast<std::size_t>(n));
    synced_ += static_cast<std::uint64_t>(n);
  }
  buffer_.clear();
  if (::fdatasync(fd_) != 0 && errno != EINVAL) throw FileError(path_, "cannot sync the output", errno);
}

void OutputFile::rotate_to(const std::filesystem::path& rotated) {
  if (::renameat2(AT_FDCWD, path_.c_str(), AT_FDCWD, rotated.c_str(), RENAME_NOREPLACE) != 0) {
    throw FileError(rotated, "cannot rotate " + path_.string() + " to", errno);
  }
  sync_directory(path_.parent_path());
  open_fresh();
}

void OutputFile::open_fresh() {
  ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd_ < 0) throw FileError(path_, "cannot create the new output", errno);
  synced_ = 0;
  buffer_.clear();
  sync_directory(path_.parent_path());
}

}  // namespace shmq::logd
