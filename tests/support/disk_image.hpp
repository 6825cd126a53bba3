// A disk that keeps only what msync wrote: a test double for the system-call seam
// (lib/src/system.hpp) for power-loss tests that span processes and handles.
//
// The image file holds, for each page of a queue file, the content it had when an msync last
// wrote it (it starts as a copy of the file). A power loss is modelled by using the image as the
// file: every page that no msync covered is lost, the worst case writeback allows. An msync can be
// made to fail with EIO; as Linux does after a failed writeback (fsyncgate), the pages are then
// clean: a later msync skips them until they are rewritten (pwrite) or changed.
// Each process that installs one with the same image shares the disk; failure and cut schedules
// are per process.
#pragma once

#include <cstddef>
#include <filesystem>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "system.hpp"

namespace shmq::test {

// A mapping of a file in this process, from /proc/self/maps.
struct FileMapping {
  std::uintptr_t start = 0, end = 0;  // addresses
  std::uint64_t offset = 0;           // file offset of `start`
  bool holds(const void* address) const {
    const auto a = reinterpret_cast<std::uintptr_t>(address);
    return a >= start && a < end;
  }
  std::size_t page_of(const void* address) const {
    return (reinterpret_cast<std::uintptr_t>(address) - start + offset) / 4096;
  }
};
// The mapping of `file` that holds `address`, if any.
std::optional<FileMapping> find_file_mapping(const std::filesystem::path& file, const void* address);

class DiskImage : public detail::System {
 public:
  enum class Start { copy_the_file, use_the_image };
  DiskImage(std::filesystem::path file, std::filesystem::path image, Start start);
  ~DiskImage() override;
  DiskImage(const DiskImage&) = delete;
  DiskImage& operator=(const DiskImage&) = delete;

  // Pages of the queue file: 0 the identity and roles, 1 and 2 the checkpoint slots, 4.. the ring.
  static constexpr std::size_t kSlotPages[2] = {1, 2};
  static constexpr std::size_t kFirstRingPage = 4;

  // The next msync that covers any page in [first, last] fails with `err`, writing nothing.
  void fail_next_msync(std::size_t first, std::size_t last, int err);
  // The power goes off at the next msync that covers any page in [first, last]: it and every later
  // msync write nothing (and report success, as the process never learns).
  void cut_at_next_msync(std::size_t first, std::size_t last);
  void cut_now() { cut_ = true; }
  // The kernel writes a dirty page back on its own, at a moment of its choosing: the image takes
  // the file's content of `page` now (unless the power is already off).
  void write_back(std::size_t page);
  bool cut() const { return cut_; }

  // The disk after the power loss: the image, copied to `to` (mode 0600).
  void copy_image_to(const std::filesystem::path& to) const;

  int msync(void* address, std::size_t length) override;
  int fsync(int fd) override;
  int fallocate(int fd, off_t offset, off_t length) override;
  int pwrite(int fd, const void* data, std::size_t length, off_t offset) override;
  int boot_id(detail::BootId& out) override;

 private:
  struct Schedule {
    bool armed = false;
    std::size_t first = 0, last = 0;
    int err = 0;
    bool matches(std::size_t begin, std::size_t count) const { return armed && begin <= last && begin + count > first; }
  };
  std::vector<char> read_page(int fd, std::size_t page) const;

  std::filesystem::path file_;
  std::filesystem::path image_;
  int file_fd_ = -1;
  int image_fd_ = -1;
  bool cut_ = false;
  Schedule failure_;
  Schedule cut_schedule_;
  std::map<std::size_t, std::vector<char>> clean_after_error_;  // page -> its content when the msync failed
  detail::System* previous_;
};

}  // namespace shmq::test
