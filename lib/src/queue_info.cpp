#include "shmq/queue.hpp"

#include "queue_file.hpp"
#include "ring_writer.hpp"

namespace shmq {

std::size_t max_message_size(std::uint64_t capacity) noexcept {
  if (capacity < sizeof(layout::RecordHeader)) return 0;
  return static_cast<std::size_t>(detail::max_message_length(capacity));
}

QueueInfo inspect_queue(const std::filesystem::path& path, const OpenOptions& options) {
  const detail::QueueFile file = detail::QueueFile::open(path, detail::Access::read_only, options);
  const layout::Identity& id = file.identity();
  QueueInfo info;
  info.capacity = id.capacity;
  info.max_message_size = max_message_size(id.capacity);
  info.checksums = (id.flags & layout::kFlagChecksums) != 0;
  info.durable = (id.flags & layout::kFlagDurable) != 0;
  info.instance_id = id.instance_id;
  return info;
}

}  // namespace shmq
