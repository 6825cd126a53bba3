// Reference: the round trip of any queue that publishes through an index kept apart from the
// data (shmq, boost::lockfree::spsc_queue): each way, a 64-byte payload is written into one line,
// then a counter into another; the reader spins on the counter, then reads the payload. Two lines
// cross per direction where the cache-line reference moves one: this is that design's floor.
#include <atomic>
#include <cstdint>

#include "ping_pong.hpp"

namespace bench {

namespace {

struct alignas(64) Line {
  std::atomic<std::uint64_t> words[8];
};

struct Direction {
  Line index;
  Line data;
};

struct Channel {
  Direction ping;
  Direction pong;
};

void write_payload(Line& data, std::uint64_t value) {
  for (auto& w : data.words) w.store(value, std::memory_order_relaxed);  // ordered by the index's release
}

// Reads every word (a message is read, not only signalled); the sum keeps the loads.
volatile std::uint64_t sink = 0;
void read_payload(const Line& data) {
  std::uint64_t sum = 0;
  for (const auto& w : data.words) sum += w.load(std::memory_order_relaxed);
  sink = sum;
}

}  // namespace

LatencyRow measure_index_and_data_ping_pong(const Config& config, std::uint64_t round_trips, int repetitions) {
  SharedPage page;
  Channel& c = page.as<Channel>();
  auto ping = [&](std::uint64_t i) {
    write_payload(c.ping.data, i + 1);
    c.ping.index.words[0].store(i + 1, std::memory_order_release);  // pairs with pong's acquire: the payload
    while (c.pong.index.words[0].load(std::memory_order_acquire) != i + 1) cpu_relax();  // pairs with pong's release
    read_payload(c.pong.data);
  };
  auto pong = [&](std::uint64_t i) {
    while (c.ping.index.words[0].load(std::memory_order_acquire) != i + 1) cpu_relax();  // pairs with ping's release
    read_payload(c.ping.data);
    write_payload(c.pong.data, i + 1);
    c.pong.index.words[0].store(i + 1, std::memory_order_release);  // pairs with ping's acquire: the payload
  };
  return measure_reference_ping_pong(config, "index + data ping-pong (reference)", 64, round_trips, repetitions, ping,
                                     pong);
}

}  // namespace bench
