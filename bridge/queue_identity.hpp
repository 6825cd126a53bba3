// A stable name for a queue file, for the JetStream message ids of `shmq-bridge out`.
//
// The public shmq API does not expose the instance id stored in the queue's header, so the bridge
// derives one from the file's identity: XXH3-64 of its device, inode and birth time (statx; device and inode alone
// where the file system records no birth time), as 16 hex digits. It is the same for every run of the bridge on the
// same file (also when the file is renamed) and differs for a queue removed and created again at the same path.
#pragma once

#include <filesystem>
#include <string>

namespace shmq_bridge {

// Throws std::system_error naming the path when the file cannot be examined.
std::string queue_instance_id(const std::filesystem::path& queue);

}  // namespace shmq_bridge
