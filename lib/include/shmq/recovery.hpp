// What opening a queue found and did after the machine lost its page cache.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "shmq/options.hpp"

namespace shmq {

// Every read-write open checks whether the file was last used in this boot of the machine. If not
// (an OS crash, a power loss, or a reboot), a durable queue is first recovered: from its newest
// valid checkpoint, every record up to the checkpoint is checked, the records written after it
// are kept as far as they are valid (the first invalid one ends the queue: a torn tail), and the
// ring past that point is cleared so that nothing stale can ever validate. A file that cannot be
// trusted (both checkpoint slots invalid, durable records missing) is refused and left untouched.
struct RecoveryReport {
  bool ran = false;                      // false: nothing to recover (used in this boot)
  std::uint64_t checkpoint = 0;          // counter of the checkpoint recovery started from
  std::uint64_t durable_sequence = 0;    // messages below this were durable at that checkpoint
  std::uint64_t recovered_messages = 0;  // valid messages found after the checkpoint (kept)
  std::uint64_t discarded_bytes = 0;     // ring bytes cleared after the last valid record
  std::uint64_t next_sequence = 0;       // the sequence the producer continues with
  std::uint64_t read_sequence = 0;       // where the consumer resumes (the checkpoint's consumer position)
  std::string stopped_because;           // why the scan after the checkpoint stopped
};

}  // namespace shmq
