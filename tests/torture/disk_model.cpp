#include "disk_model.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include "protocol.hpp"

namespace shmq::torture {
namespace {

constexpr std::size_t kVersionsKept = 6;  // per page: the oldest and newest three

void write_all(int fd, const void* data, std::size_t length) {
  const auto* p = static_cast<const char*>(data);
  while (length > 0) {
    const ssize_t n = ::write(fd, p, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    length -= static_cast<std::size_t>(n);
  }
}

// The record at `at` of `log` if it is whole and intact: its header, and its size (0: not there).
std::size_t intact_record(const std::vector<char>& log, std::size_t at, DiskEventHeader& h) {
  if (log.size() - at < sizeof h) return 0;
  std::memcpy(&h, log.data() + at, sizeof h);
  if (h.magic != kDiskEventMagic || h.has_content > 1) return 0;
  const std::size_t size = sizeof h + (h.has_content != 0 ? kPage : 0);
  if (log.size() - at < size) return 0;
  DiskEventHeader zeroed = h;
  zeroed.checksum = 0;
  std::vector<char> copy(log.begin() + static_cast<std::ptrdiff_t>(at),
                         log.begin() + static_cast<std::ptrdiff_t>(at + size));
  std::memcpy(copy.data(), &zeroed, sizeof zeroed);
  return XXH3_64bits(copy.data(), copy.size()) == h.checksum ? size : 0;
}

}  // namespace

AgentDisk::AgentDisk(std::filesystem::path queue, std::filesystem::path disk_log, std::uint32_t boot, Faults faults)
    : queue_(std::move(queue)), boot_(boot), faults_(faults) {
  queue_fd_ = ::open(queue_.c_str(), O_RDONLY | O_CLOEXEC);
  log_fd_ = ::open(disk_log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  previous_ = detail::install_system(this);
}

AgentDisk::~AgentDisk() {
  detail::install_system(previous_ == this ? nullptr : previous_);
  if (queue_fd_ >= 0) ::close(queue_fd_);
  if (log_fd_ >= 0) ::close(log_fd_);
}

void AgentDisk::append(std::uint32_t kind, std::uint32_t page, std::uint32_t pages, const char* content) {
  std::vector<char> record(sizeof(DiskEventHeader) + (content != nullptr ? kPage : 0));
  DiskEventHeader h;
  h.kind = static_cast<DiskEventKind>(kind);
  h.page = page;
  h.pages = pages;
  h.has_content = content != nullptr ? 1u : 0u;
  std::memcpy(record.data(), &h, sizeof h);
  if (content != nullptr) std::memcpy(record.data() + sizeof h, content, kPage);
  h.checksum = XXH3_64bits(record.data(), record.size());
  std::memcpy(record.data(), &h, sizeof h);
  write_all(log_fd_, record.data(), record.size());  // one O_APPEND write: events never interleave
}

bool AgentDisk::page_of(const void* address, std::size_t& page) {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (const Mapping& m : mappings_) {
      if (a >= m.start && a < m.end) {
        page = (a - m.start + m.offset) / kPage;
        return true;
      }
    }
    // A mapping not seen yet: learn this process's mappings of the queue file.
    mappings_.clear();
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
      std::istringstream in(line);
      std::string range, perms, offset, dev, inode, path;
      in >> range >> perms >> offset >> dev >> inode >> path;
      if (path != queue_.string()) continue;
      mappings_.push_back({std::stoull(range.substr(0, range.find('-')), nullptr, 16),
                           std::stoull(range.substr(range.find('-') + 1), nullptr, 16),
                           std::stoull(offset, nullptr, 16)});
    }
  }
  return false;
}

int AgentDisk::msync(void* address, std::size_t length) {
  std::lock_guard lock(mutex_);
  std::size_t first = 0;
  if (!page_of(address, first)) return EINVAL;  // not the queue file: the library never does this
  const std::size_t count = (length + kPage - 1) / kPage;
  ++msyncs_;
  if (faults_.cut_at_msync != 0 && msyncs_ == faults_.cut_at_msync) {
    append(static_cast<std::uint32_t>(DiskEventKind::power_cut), static_cast<std::uint32_t>(first), 0, nullptr);
    ::kill(::getpid(), SIGKILL);  // the machine is off: nothing after this instant happens
  }
  const bool fail = faults_.fail_msync_at != 0 && msyncs_ == faults_.fail_msync_at;
  std::vector<char> content(kPage);
  for (std::size_t p = first; p < first + count; ++p) {
    if (::pread(queue_fd_, content.data(), kPage, static_cast<off_t>(p * kPage)) != static_cast<ssize_t>(kPage)) break;
    append(static_cast<std::uint32_t>(fail ? DiskEventKind::failed : DiskEventKind::synced),
           static_cast<std::uint32_t>(p), 1, content.data());
  }
  return fail ? EIO : 0;
}

int AgentDisk::fsync(int) { return 0; }

int AgentDisk::fallocate(int fd, off_t offset, off_t length) {
  if (faults_.fallocate_enospc) return ENOSPC;
  return detail::real_system().fallocate(fd, offset, length);
}

int AgentDisk::pwrite(int fd, const void* data, std::size_t length, off_t offset) {
  const int rc = detail::real_system().pwrite(fd, data, length, offset);
  if (rc == 0 && length > 0) {
    std::lock_guard lock(mutex_);
    const auto first = static_cast<std::uint32_t>(static_cast<std::size_t>(offset) / kPage);
    const auto last = static_cast<std::uint32_t>((static_cast<std::size_t>(offset) + length - 1) / kPage);
    append(static_cast<std::uint32_t>(DiskEventKind::rewritten), first, last - first + 1, nullptr);
  }
  return rc;
}

int AgentDisk::boot_id(detail::BootId& out) {
  if (const int rc = detail::real_system().boot_id(out); rc != 0) return rc;
  out[15] = static_cast<std::uint8_t>(out[15] ^ boot_);  // boot 0 is the real one
  out[14] = static_cast<std::uint8_t>(out[14] ^ (boot_ >> 8));
  return 0;
}

DiskModel::DiskModel(std::filesystem::path queue, std::filesystem::path disk_log)
    : queue_(std::move(queue)), disk_log_(std::move(disk_log)) {
  disk_ = read_file();  // create synced the whole file
  later_.assign(disk_.size(), {});
  std::ofstream(disk_log_, std::ios::trunc).close();
}

std::vector<Page> DiskModel::read_file() const {
  std::ifstream in(queue_, std::ios::binary);
  std::vector<Page> pages;
  for (;;) {
    Page page(kPage);
    if (!in.read(page.data(), kPage)) break;
    pages.push_back(std::move(page));
  }
  return pages;
}

void DiskModel::absorb_log() {
  std::ifstream in(disk_log_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(log_offset_));
  const std::vector<char> log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t at = 0;
  for (;;) {
    DiskEventHeader h{};
    std::size_t size = intact_record(log, at, h);
    if (size == 0) {
      // Torn by a killed writer, with intact records after it (skip to the next one), or still
      // being written at the end (read it next time).
      std::size_t next = at + 1;
      while (next < log.size() && intact_record(log, next, h) == 0) ++next;
      if (next >= log.size()) break;
      at = next;
      size = intact_record(log, at, h);
    }
    Page content;
    if (h.has_content != 0)
      content.assign(log.begin() + static_cast<std::ptrdiff_t>(at + sizeof h),
                     log.begin() + static_cast<std::ptrdiff_t>(at + size));
    at += size;
    if (cut_requested_) continue;  // after the cut nothing reaches the disk
    const std::size_t p = h.page;
    switch (h.kind) {
      case DiskEventKind::synced:
        if (p >= disk_.size()) break;
        if (const auto lost = clean_lost_.find(p); lost != clean_lost_.end()) {
          if (lost->second == content) break;  // clean since the failed writeback: msync skips it
          clean_lost_.erase(lost);
        }
        disk_[p] = content;
        later_[p].clear();
        break;
      case DiskEventKind::failed:
        if (p >= disk_.size()) break;
        clean_lost_[p] = content;  // Linux marks the page clean: this content never reaches the disk
        later_[p].clear();
        break;
      case DiskEventKind::rewritten:
        for (std::size_t q = p; q < p + h.pages && q < disk_.size(); ++q) clean_lost_.erase(q);
        break;
      case DiskEventKind::power_cut:
        cut_requested_ = true;
        break;
    }
  }
  log_offset_ += at;  // an incomplete record at the end is read next time
}

void DiskModel::observe() {
  absorb_log();
  if (!cut_requested_) snapshot_file();
}

void DiskModel::snapshot_file() {
  const std::vector<Page> now = read_file();
  for (std::size_t p = 0; p < now.size() && p < disk_.size(); ++p) {
    if (now[p] == disk_[p]) continue;
    if (const auto lost = clean_lost_.find(p); lost != clean_lost_.end()) {
      if (lost->second == now[p]) continue;  // still clean
      clean_lost_.erase(lost);
    }
    std::vector<Page>& versions = later_[p];
    if (!versions.empty() && versions.back() == now[p]) continue;
    if (versions.size() == kVersionsKept) versions.erase(versions.begin() + kVersionsKept / 2);
    versions.push_back(now[p]);
  }
}

std::string DiskModel::power_loss(Rng& rng) {
  // The newest content of a page is its last version; one the cut caught mid-write is in the file.
  absorb_log();
  snapshot_file();
  cut_requested_ = false;
  // How this cut chooses: uniformly among the versions, or (adversarial) the header page newest
  // and each other page its oldest or newest version.
  const bool adversarial = rng.percent(50);
  std::vector<Page> image = disk_;
  std::size_t old_pages = 0, new_pages = 0, other = 0;
  for (std::size_t p = 0; p < image.size(); ++p) {
    const std::vector<Page>& versions = later_[p];
    if (versions.empty()) continue;
    std::size_t choice = 0;  // 0: the disk's own; i: versions[i - 1]
    if (adversarial) {
      choice = p == 0            ? versions.size()
               : rng.percent(50) ? rng.below(std::min<std::size_t>(2, versions.size()) + 1)
                                 : versions.size();
    } else {
      choice = rng.below(versions.size() + 1);
    }
    if (choice > 0) image[p] = versions[choice - 1];
    (choice == 0 ? old_pages : choice == versions.size() ? new_pages : other) += 1;
  }
  const std::filesystem::path next = queue_.string() + ".after-power-loss";
  {
    std::ofstream out(next, std::ios::binary | std::ios::trunc);
    for (const Page& page : image) out.write(page.data(), static_cast<std::streamsize>(page.size()));
    if (!out) throw std::runtime_error("cannot write the disk image " + next.string());
  }
  std::filesystem::permissions(next, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::rename(next, queue_);
  disk_ = image;
  later_.assign(disk_.size(), {});
  clean_lost_.clear();
  return std::string(adversarial ? "adversarial" : "uniform") + " cut: " + std::to_string(old_pages) +
         " dirty pages kept their synced content, " + std::to_string(new_pages) + " their newest, " +
         std::to_string(other) + " one in between";
}

}  // namespace shmq::torture
