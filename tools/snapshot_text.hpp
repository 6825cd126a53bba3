// Snapshot facts as text, shared by `stat` and `watch`.
#pragma once

#include <string>

#include "queue_snapshot.hpp"

namespace shmq::tool {

// "attached, pid 1234 (recorded in the file: informative only), 2 attaches, waiting for space: no"
std::string describe_role(const RoleSnapshot& role, const char* waits_for);
// How a role fences its publications or releases: "membarrier (no fence per message)", or the
// full fence and why. The reason alone is empty for membarrier.
std::string describe_fencing(const RoleSnapshot& role);
std::string describe_fencing_reason(const RoleSnapshot& role);
// "12 messages, 1.5 KiB (1536 bytes)  [#...................] 0.1%", then how the depth was found
// when not by a clean walk (with_note).
std::string describe_depth(const QueueSnapshot& s, bool with_note = true);
// "sequence 1200 (position 96000), checkpoint 7 taken 2024-...Z, 15 ms ago", "no valid checkpoint",
// or "n/a (not a durable queue)".
std::string describe_durable(const QueueSnapshot& s);

}  // namespace shmq::tool
