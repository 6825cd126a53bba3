// The spool directory: one queue per logging process, and the names that tell them apart.
//
// A process's queue is `<program>.<pid>.<start-time-ns>.q`, created exclusively, and its dropped-
// record counter is the file next to it with `.drops` appended (drop_counter.hpp). Names starting
// with '.' are never sources: they are temporaries (a queue being created, shmq-logd's own files)
// and the `.set-aside/` folder where shmq-logd moves files it cannot read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace shmq::log {

inline constexpr std::string_view kQueueSuffix = ".q";
inline constexpr std::string_view kDropsSuffix = ".drops";
inline constexpr std::string_view kSetAsideDir = ".set-aside";

// `program` with every character outside [A-Za-z0-9_-] replaced by '_' (never empty, never hidden).
std::string spool_program_name(std::string_view program);

// `<program>.<pid>.<start_unix_ns>.q`
std::string spool_queue_name(std::string_view program, pid_t pid, std::uint64_t start_unix_ns);

// The drop counter that goes with a queue: `<queue>.drops`.
std::filesystem::path drops_path(const std::filesystem::path& queue);

// What a file name in the spool is.
enum class SpoolEntry {
  queue,     // ends in .q: a source
  drops,     // ends in .q.drops: a source's drop counter, read with its queue
  hidden,    // starts with '.': temporaries and shmq-logd's own files; ignored
  stranger,  // anything else: not something a sink writes
};
SpoolEntry classify_spool_name(std::string_view name) noexcept;

}  // namespace shmq::log
