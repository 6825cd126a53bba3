// The dropped-record counter of one spool queue: a 64-byte file `<queue>.drops` next to it.
//
// The sink maps it and counts every record it could not publish (the queue was full past the
// policy's bound); shmq-logd reads it and writes one line per increase ("N records dropped between
// T1 and T2"). It lives in a file, not in the process, so a count survives `kill -9` of an
// application whose queue was full (docs/LOGGING.md, "Dropped records", says why it is not a
// record in the queue).
//
//   0        8         12         16        24                 32                 40      64
//   +--------+---------+----------+---------+------------------+------------------+--------+
//   | magic  | version | reserved | dropped | first_drop_ns    | last_drop_ns     | zero   |
//   +--------+---------+----------+---------+------------------+------------------+--------+
//
// Memory ordering: the writer stores first/last with relaxed stores, then `dropped` with a
// release store; a reader reads the file with pread twice and keeps a read only when both agree
// (it cannot map a file a hostile process might truncate under it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace shmq::log {

inline constexpr std::size_t kDropCounterSize = 64;

struct DropCount {
  std::uint64_t dropped = 0;
  std::uint64_t first_drop_unix_ns = 0;
  std::uint64_t last_drop_unix_ns = 0;
};

// The writer's side (the sink). Move-only.
class DropCounter {
 public:
  // Creates `path` exclusively (O_EXCL, mode 0600), zeroed, with its magic. Throws shmq::Error.
  static DropCounter create(const std::filesystem::path& path);
  DropCounter() = default;
  DropCounter(DropCounter&& other) noexcept;
  DropCounter& operator=(DropCounter&& other) noexcept;
  ~DropCounter();

  // Counts one dropped record at `now_unix_ns`. One writer at a time (the sink's lock).
  void add(std::uint64_t now_unix_ns) noexcept;
  std::uint64_t dropped() const noexcept;

 private:
  void* mapping_ = nullptr;
};

// The reader's side (shmq-logd): the counter now, or an error naming the cause.
struct DropCountRead {
  std::optional<DropCount> count;
  std::string error;  // when !count: "no such file", "not a drop counter", ...
};
DropCountRead read_drop_count(const std::filesystem::path& path);

}  // namespace shmq::log
