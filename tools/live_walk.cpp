#include "live_walk.hpp"

#include <atomic>
#include <cstddef>

#include "diagnostics.hpp"
#include "ring_reader.hpp"
#include "shmq/error.hpp"

namespace shmq::tool {

namespace {

std::uint64_t consumer_position(const detail::RingView& view) {
  // Pairs with the consumer's release store in RingReader::release; the fence before it (in
  // callers) orders the mapping reads that came first before this load.
  return view.header->consumer.position.load(std::memory_order_acquire);
}

}  // namespace

WalkResult walk_live_region(const detail::RingView& view, const std::function<bool(const LiveRecord&)>& visit) {
  WalkResult result;
  const std::uint64_t read_before = consumer_position(view);
  detail::LivePositions live;
  try {
    live = detail::read_live_positions(view, {});
  } catch (const Error& e) {
    std::atomic_thread_fence(std::memory_order_acquire);
    if (consumer_position(view) != read_before) {
      result.end = WalkEnd::raced;  // read and write loaded around a release: retry
      return result;
    }
    result.end = WalkEnd::damaged;
    result.fault_position = read_before;
    result.fault_in_positions = true;
    result.fault = cause_of(e);
    return result;
  }
  if (consumer_position(view) != read_before || live.read != read_before) {
    result.end = WalkEnd::raced;
    return result;
  }
  result.read = live.read;
  result.write = live.write;
  result.first_sequence = live.read_sequence;
  result.next_sequence = live.read_sequence;

  // The commit words say what is published (queue_file.hpp, published_lower_bound): walk them from
  // the read position to the first that is 0, which must lie at or past `live.write`, since the
  // producer stores its position word only after the commit words it covers. Records published
  // during the walk are walked too; `write` becomes the end the walk found.
  const std::uint64_t at_least = live.write - live.read;
  detail::RingReader reader(view, live.read, live.read_sequence);
  bool past_write = false;
  try {
    for (;;) {
      // A producer keeps the 16 bytes after its last record free: a ring of records from a read
      // position that stayed put is damage; one the consumer moved past is a race (below).
      if (reader.cursor() - live.read >= view.capacity) {
        throw Error(ErrorCode::peer_broke_protocol, {}, "records fill the whole ring");
      }
      Message m;
      if (!reader.try_read(m)) {
        // try_read skips padding before it finds nothing: the cursor is where the records end.
        if (reader.cursor() - live.read >= at_least) break;
        throw Error(ErrorCode::peer_broke_protocol, {}, "no record published before the write position");
      }
      // The position word is stored at record boundaries only: a record that starts before it
      // and ends past it breaks the format.
      const std::uint64_t start = reader.last_record_position() - live.read;
      if (start < at_least && start + layout::record_size(m.bytes.size()) > at_least) {
        past_write = true;
        throw Error(ErrorCode::peer_broke_protocol, {},
                    "record length " + std::to_string(m.bytes.size()) + " runs past the write position");
      }
      const LiveRecord record{m.bytes, m.sequence, reader.last_record_position()};
      ++result.messages;
      result.next_sequence = m.sequence + 1;
      if (visit && !visit(record)) {
        result.write = reader.cursor();
        result.end = WalkEnd::stopped;
        return result;
      }
    }
  } catch (const Error& e) {
    std::atomic_thread_fence(std::memory_order_acquire);
    if (consumer_position(view) != live.read) {
      result.end = WalkEnd::raced;
      return result;
    }
    result.end = WalkEnd::damaged;
    result.fault_position = past_write ? reader.last_record_position() : reader.cursor();
    result.fault = cause_of(e);
    return result;
  }
  // Complete even if the consumer moved meanwhile: every record visited passed the checks (a record
  // overwritten by a later lap would carry a later sequence number and fail them).
  result.write = reader.cursor();
  return result;
}

WalkResult walk_until_consistent(const detail::RingView& view, int attempts,
                                 const std::function<bool(const LiveRecord&)>& visit) {
  WalkResult result;
  for (int i = 0; i < attempts; ++i) {
    result = walk_live_region(view, visit);
    if (result.end != WalkEnd::raced) break;
  }
  return result;
}

bool still_unreleased(const detail::RingView& view, std::uint64_t position) {
  // The copy's loads happen before the load below (acquire fence then load, as a seqlock reader).
  std::atomic_thread_fence(std::memory_order_acquire);
  return position - consumer_position(view) < view.capacity;  // read position at or before `position`
}

std::uint64_t file_offset(const detail::RingView& view, std::uint64_t position) {
  return layout::kHeaderSize + (position & (view.capacity - 1));
}

std::string describe_fault(const detail::RingView& view, const WalkResult& result) {
  const std::string& cause = result.fault;
  if (result.fault_in_positions) {
    return "positions in the header (producer line at file offset " +
           std::to_string(offsetof(layout::Header, producer)) + ", consumer line at file offset " +
           std::to_string(offsetof(layout::Header, consumer)) + "): " + cause;
  }
  return "record at ring position " + std::to_string(result.fault_position) + " (file offset " +
         std::to_string(file_offset(view, result.fault_position)) + "), sequence " +
         std::to_string(result.next_sequence) + " due: " + cause;
}

}  // namespace shmq::tool
