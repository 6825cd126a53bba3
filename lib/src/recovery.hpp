// Recovery after the machine lost the page cache of a queue file (see shmq/recovery.hpp).
#pragma once

#include "queue_file.hpp"
#include "shmq/recovery.hpp"

namespace shmq::detail {

// For a file opened read-write: if it was last used in another boot, recover it (durable queue)
// or just adopt it (non-durable queue: nothing to recover from). Serialised between processes by
// the recovery lock. Throws Error(damaged), leaving the file untouched, when it cannot be trusted.
RecoveryReport recover_if_needed(QueueFile& file);

// True when the file was last used in this boot (no recovery needed).
bool used_in_this_boot(const layout::Header& header);

}  // namespace shmq::detail
