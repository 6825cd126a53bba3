// The name `shmq-bridge out` gives a source queue in its JetStream message ids.
//
// It is the queue's own instance id (shmq::QueueInfo::instance_id, the random id a queue gets when
// it is created, which `shmq stat` shows), as 16 hex digits: the same for every run of the bridge
// on the same file, different for a queue removed and created again at the same path.
//
// Before the library exposed that id, the bridge derived one from the file's identity (XXH3-64 of
// its device, inode and birth time). A stream written by such a bridge holds messages under that
// legacy id; `out` recognises it for the same file (see out_bridge.cpp) so that it neither sends
// those messages again nor skips any.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace shmq_bridge {

// 16 lower-case hex digits, as `shmq stat` prints an instance id.
std::string format_instance(std::uint64_t instance_id);

// The queue's instance id, read without attaching (shmq::inspect_queue); throws shmq::Error.
std::string queue_instance_id(const std::filesystem::path& queue);

// The id the bridge derived before the queue's own id was public. nullopt where the file system
// records no birth time: device and inode alone can be those of a queue removed and created
// again, so such an id cannot tell the two apart and is not trusted.
std::optional<std::string> legacy_instance_id(const std::filesystem::path& queue);

}  // namespace shmq_bridge
