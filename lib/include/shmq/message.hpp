// A message as the consumer sees it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace shmq {

// A view of one message inside the shared ring. Valid until Consumer::release() (or until the
// Consumer is destroyed); the producer never reuses the bytes before then.
//
// The bytes are read in place: a well-behaved producer never changes them after publishing, but
// a hostile process with write access to the file could. Copy them before trusting their contents
// twice (see docs/DESIGN.md, "Untrusted peer").
struct Message {
  std::span<const std::byte> bytes;
  std::uint64_t sequence = 0;  // assigned by the queue: 0, 1, 2, ... in send order, never reused

  std::string_view text() const noexcept { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }
};

}  // namespace shmq
