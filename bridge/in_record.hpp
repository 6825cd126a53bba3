// What `shmq-bridge in` keeps beside its queue B: which queue file it filled, from which stream
// and consumer, following which source queue. A text file, `<queue>.shmq-bridge-in`, replaced
// atomically (written to a temporary name, fsynced, renamed, the directory fsynced):
//
//   queue_instance 0123456789abcdef   B's own instance id (shmq::QueueInfo::instance_id)
//   stream ORDERS
//   consumer to-b
//   source_instance fedcba9876543210  the Shmq-Instance B follows
//   source_start 17                   the stream sequence of that source's message 0
//
// It sits beside B on purpose: it lives and dies with B (a reboot that empties /dev/shm takes
// both), and a queue created again at the path has another instance id, so a record left from an
// earlier queue never applies to a new one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace shmq_bridge {

struct InRecord {
  std::string queue_instance;
  std::string stream;
  std::string consumer;
  std::string source_instance;
  std::uint64_t source_start = 0;
};

std::filesystem::path record_path(const std::filesystem::path& queue);

// nullopt when there is no record; throws FatalError naming the file when it cannot be read or
// is not a record.
std::optional<InRecord> read_record(const std::filesystem::path& path);

// Throws FatalError naming the file when it cannot be written.
void write_record(const std::filesystem::path& path, const InRecord& record);

}  // namespace shmq_bridge
