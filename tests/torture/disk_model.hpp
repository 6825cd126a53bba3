// A disk in which any dirty page may or may not have reached the platter when the power goes.
//
// Every process of a run that syncs (producers, consumers running recovery, repair) installs an
// AgentDisk as the library's System (lib/src/system.hpp): its msync writes nothing itself but
// appends each page it covers, with the content it had at that instant, to a disk log shared by
// the run; injected failures and rewrites (pwrite) are logged the same way. The driver's
// DiskModel replays that log and, after every step of the driver, snapshots the queue file: each
// page's synced content, and the versions it had since. At a power loss the model picks, for
// every page whose content is not known to be on disk, one of those versions, the header page
// included (it is never msynced, so it keeps whatever writeback left). Linux's behaviour after a
// failed writeback is modelled too (fsyncgate): the page is clean, a later msync skips it until
// it changes or is rewritten.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "rng.hpp"
#include "system.hpp"

namespace shmq::torture {

inline constexpr std::size_t kPage = 4096;
using Page = std::vector<char>;

// The System of an agent process.
class AgentDisk : public detail::System {
 public:
  struct Faults {
    std::uint64_t fail_msync_at = 0;  // the n-th msync of this process returns EIO (0: none)
    std::uint64_t cut_at_msync = 0;   // the power fails inside the n-th msync (0: never)
    bool fallocate_enospc = false;
  };
  // `boot`: which boot of the simulated machine this process runs in.
  AgentDisk(std::filesystem::path queue, std::filesystem::path disk_log, std::uint32_t boot, Faults faults);
  ~AgentDisk() override;
  AgentDisk(const AgentDisk&) = delete;
  AgentDisk& operator=(const AgentDisk&) = delete;

  int msync(void* address, std::size_t length) override;
  int fsync(int fd) override;
  int fallocate(int fd, off_t offset, off_t length) override;
  int pwrite(int fd, const void* data, std::size_t length, off_t offset) override;
  int boot_id(detail::BootId& out) override;

 private:
  bool page_of(const void* address, std::size_t& page);
  void append(std::uint32_t kind, std::uint32_t page, std::uint32_t pages, const char* content);

  std::filesystem::path queue_;
  int queue_fd_ = -1;
  int log_fd_ = -1;
  std::uint32_t boot_;
  Faults faults_;
  std::uint64_t msyncs_ = 0;
  std::mutex mutex_;  // the producer's checkpointer thread syncs too
  struct Mapping {
    std::uintptr_t start, end;
    std::uint64_t offset;
  };
  std::vector<Mapping> mappings_;
  detail::System* previous_;
};

// The driver's model of what the disk holds.
class DiskModel {
 public:
  DiskModel(std::filesystem::path queue, std::filesystem::path disk_log);
  // Reads what the agents logged since the last call, then records the file's pages as versions.
  void observe();
  // The power fails: every page not known to be on disk becomes one of its versions, chosen by
  // `rng`. Writes the disk's content over the queue file (the machine rebooted) and starts over
  // from it. Returns a line saying what was chosen.
  std::string power_loss(Rng& rng);
  // Reads the disk log: true when the power failed inside an msync of an agent (it is dead).
  bool cut_requested() {
    absorb_log();
    return cut_requested_;
  }

 private:
  void absorb_log();
  void snapshot_file();
  std::vector<Page> read_file() const;

  std::filesystem::path queue_;
  std::filesystem::path disk_log_;
  std::uint64_t log_offset_ = 0;
  std::vector<Page> disk_;                  // known to be on disk
  std::vector<std::vector<Page>> later_;    // versions seen since, oldest first
  std::map<std::size_t, Page> clean_lost_;  // pages a failed msync left clean with this content
  bool cut_requested_ = false;
};

}  // namespace shmq::torture
