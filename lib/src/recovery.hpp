// Recovery after the machine lost the page cache of a queue file (see shmq/recovery.hpp).
#pragma once

#include "queue_file.hpp"
#include "shmq/recovery.hpp"

namespace shmq::detail {

// For a file opened read-write: if it was last used in another boot, recover it (durable queue)
// or just adopt it (non-durable queue: nothing to recover from). Serialised between processes by
// the recovery lock. Never while another process holds a role: a held role lock proves the page
// cache is live (the machine did not lose it), so the file is taken as found. Throws
// Error(damaged_file), leaving the file untouched, when it cannot be trusted.
RecoveryReport recover_if_needed(QueueFile& file);

// True when the file was last used in this boot (no recovery needed). Throws Error(io) naming
// `path` when this boot's id cannot be read.
bool used_in_this_boot(const layout::Header& header, const std::filesystem::path& path);

}  // namespace shmq::detail
