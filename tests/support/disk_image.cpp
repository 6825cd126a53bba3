#include "support/disk_image.hpp"

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace shmq::test {
namespace {
constexpr std::size_t kPage = 4096;
}

std::optional<FileMapping> find_file_mapping(const std::filesystem::path& file, const void* address) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms >> offset >> dev >> inode >> path;
    if (path != file.string()) continue;
    const FileMapping m{std::stoull(range.substr(0, range.find('-')), nullptr, 16),
                        std::stoull(range.substr(range.find('-') + 1), nullptr, 16), std::stoull(offset, nullptr, 16)};
    if (m.holds(address)) return m;
  }
  return std::nullopt;
}

DiskImage::DiskImage(std::filesystem::path file, std::filesystem::path image, Start start)
    : file_(std::move(file)), image_(std::move(image)), previous_(nullptr) {
  if (start == Start::copy_the_file) {
    std::filesystem::copy_file(file_, image_, std::filesystem::copy_options::overwrite_existing);
  }
  file_fd_ = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
  image_fd_ = ::open(image_.c_str(), O_WRONLY | O_CLOEXEC);
  if (file_fd_ < 0 || image_fd_ < 0) ADD_FAILURE() << "cannot open " << file_ << " or its image " << image_;
  previous_ = detail::install_system(this);
}

DiskImage::~DiskImage() {
  detail::install_system(previous_ == this ? nullptr : previous_);
  ::close(file_fd_);
  ::close(image_fd_);
}

void DiskImage::fail_next_msync(std::size_t first, std::size_t last, int err) { failure_ = {true, first, last, err}; }
void DiskImage::cut_at_next_msync(std::size_t first, std::size_t last) { cut_schedule_ = {true, first, last, 0}; }

void DiskImage::copy_image_to(const std::filesystem::path& to) const {
  std::filesystem::copy_file(image_, to, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(to, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

void DiskImage::write_back(std::size_t page) {
  if (cut_) return;
  const std::vector<char> now = read_page(file_fd_, page);
  if (::pwrite(image_fd_, now.data(), kPage, static_cast<off_t>(page * kPage)) != static_cast<ssize_t>(kPage)) {
    ADD_FAILURE() << "cannot write the image " << image_;
  }
}

std::vector<char> DiskImage::read_page(int fd, std::size_t page) const {
  std::vector<char> bytes(kPage);
  if (::pread(fd, bytes.data(), kPage, static_cast<off_t>(page * kPage)) != static_cast<ssize_t>(kPage)) {
    ADD_FAILURE() << "short read of page " << page << " of " << file_;
  }
  return bytes;
}

int DiskImage::msync(void* address, std::size_t length) {
  const std::optional<FileMapping> mapping = find_file_mapping(file_, address);
  if (!mapping) {
    ADD_FAILURE() << "msync of an address outside " << file_;
    return EINVAL;
  }
  const std::size_t first = mapping->page_of(address);
  const std::size_t count = (length + kPage - 1) / kPage;
  if (cut_schedule_.matches(first, count)) cut_ = true;
  if (cut_) return 0;  // the machine is off: nothing reaches the disk any more
  if (failure_.matches(first, count)) {
    failure_.armed = false;
    for (std::size_t p = first; p < first + count; ++p) clean_after_error_[p] = read_page(file_fd_, p);
    return failure_.err;
  }
  for (std::size_t p = first; p < first + count; ++p) {
    std::vector<char> now = read_page(file_fd_, p);
    const auto lost = clean_after_error_.find(p);
    if (lost != clean_after_error_.end()) {
      if (lost->second == now) continue;  // clean since the failed writeback: msync skips it
      clean_after_error_.erase(lost);     // changed since: dirty again
    }
    if (::pwrite(image_fd_, now.data(), kPage, static_cast<off_t>(p * kPage)) != static_cast<ssize_t>(kPage)) {
      ADD_FAILURE() << "cannot write the image " << image_;
    }
  }
  return 0;
}

int DiskImage::pwrite(int fd, const void* data, std::size_t length, off_t offset) {
  const int rc = detail::real_system().pwrite(fd, data, length, offset);
  if (rc == 0 && length > 0) {  // a write(2) dirties its pages, even with the bytes they already hold
    const auto begin = static_cast<std::size_t>(offset) / kPage;
    const auto end = (static_cast<std::size_t>(offset) + length - 1) / kPage;
    for (std::size_t p = begin; p <= end; ++p) clean_after_error_.erase(p);
  }
  return rc;
}

int DiskImage::fsync(int fd) { return detail::real_system().fsync(fd); }
int DiskImage::fallocate(int fd, off_t offset, off_t length) {
  return detail::real_system().fallocate(fd, offset, length);
}
int DiskImage::boot_id(detail::BootId& out) { return detail::real_system().boot_id(out); }

}  // namespace shmq::test
