// boost::lockfree::spsc_queue of fixed-size slots, placed in a Boost.Interprocess
// managed_shared_memory segment: the classic lock-free ring, busy-poll only. The slot size is a
// compile-time parameter, so the queue exists for the benchmark's payload sizes only.
//
// Written as a user of spsc_queue would, doing the work the shmq rows do (bench/README.md shows
// both side by side): the producer copies a staged message in with push() (one index store per
// message, like shmq's try_send); the consumer takes what is there, up to kReleaseEvery messages,
// with one pop() (one index store per batch, like shmq's release() every 64). spsc_queue can only
// hand a batch back by copying it out, so the consumer reads copies, while shmq's reads in place.
#include <algorithm>
#include <array>
#include <vector>

#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/lockfree/spsc_queue.hpp>

#include "../clock.hpp"
#include "transport_factories.hpp"

namespace bench {

namespace {

namespace bip = boost::interprocess;

template <std::size_t N>
struct Slot {
  std::array<std::byte, N> bytes;
};

template <std::size_t N>
using SlotAllocator = bip::allocator<Slot<N>, bip::managed_shared_memory::segment_manager>;
template <std::size_t N>
using SlotQueue = boost::lockfree::spsc_queue<Slot<N>, boost::lockfree::allocator<SlotAllocator<N>>>;

constexpr const char* kQueueObject = "queue";

template <std::size_t N>
class SlotSender final : public Sender {
 public:
  explicit SlotSender(const std::string& segment_name)
      : segment_(bip::open_only, segment_name.c_str()), queue_(segment_.find<SlotQueue<N>>(kQueueObject).first) {
    staging_.bytes.fill(std::byte{0x5a});
  }
  std::span<std::byte> claim() override { return staging_.bytes; }
  void commit() override {
    while (!queue_->push(staging_)) cpu_relax();
  }

 private:
  bip::managed_shared_memory segment_;
  SlotQueue<N>* queue_;
  Slot<N> staging_;
};

// The consumer hands messages back in groups of up to this many (as the shmq rows release), but
// copies out no more than 256 KiB at a time.
constexpr std::size_t kReleaseEvery = 64;

template <std::size_t N>
class SlotReceiver final : public Receiver {
 public:
  explicit SlotReceiver(const std::string& segment_name)
      : segment_(bip::open_only, segment_name.c_str()),
        queue_(segment_.find<SlotQueue<N>>(kQueueObject).first),
        batch_(std::clamp<std::size_t>((std::size_t{256} << 10) / N, 1, kReleaseEvery)) {}
  std::span<const std::byte> receive() override {
    while (next_ == taken_) {
      taken_ = queue_->pop(batch_.data(), batch_.size());  // copies out what is there: one index store
      next_ = 0;
      if (taken_ == 0) cpu_relax();
    }
    return batch_[next_++].bytes;
  }

 private:
  bip::managed_shared_memory segment_;
  SlotQueue<N>* queue_;
  std::vector<Slot<N>> batch_;
  std::size_t taken_ = 0;
  std::size_t next_ = 0;
};

template <template <std::size_t> class T, class Base>
std::unique_ptr<Base> for_slot_size(std::size_t size, const std::string& segment) {
  switch (size) {
    case 8:
      return std::make_unique<T<8>>(segment);
    case 64:
      return std::make_unique<T<64>>(segment);
    case 1024:
      return std::make_unique<T<1024>>(segment);
    case 65536:
      return std::make_unique<T<65536>>(segment);
    default:
      throw Unavailable("fixed slots are built for 8, 64, 1024 and 65536 bytes only");
  }
}

template <std::size_t N>
void construct_queue(bip::managed_shared_memory& segment, std::size_t depth) {
  segment.construct<SlotQueue<N>>(kQueueObject)(depth, SlotAllocator<N>(segment.get_segment_manager()));
}

class BoostSpscQueueTransport final : public Transport {
 public:
  std::string name() const override { return "Boost spsc_queue in shm"; }
  Waiting waiting() const override { return Waiting::busy_poll; }

  void prepare(int channels, const ChannelSpec& spec) override {
    size_ = spec.message_size;
    const std::size_t depth = std::clamp<std::size_t>(spec.ring_bytes / size_, 16, std::size_t{1} << 19);
    const std::string base = unique_resource_name("shmq-bench-boost-spsc");
    for (int channel = 0; channel < channels; ++channel) {
      names_.push_back(base + "-" + std::to_string(channel));
      bip::managed_shared_memory segment(bip::create_only, names_.back().c_str(), depth * (size_ + 64) + (1u << 20));
      switch (size_) {
        case 8:
          construct_queue<8>(segment, depth);
          break;
        case 64:
          construct_queue<64>(segment, depth);
          break;
        case 1024:
          construct_queue<1024>(segment, depth);
          break;
        case 65536:
          construct_queue<65536>(segment, depth);
          break;
        default:
          throw Unavailable("fixed slots are built for 8, 64, 1024 and 65536 bytes only");
      }
    }
  }
  std::unique_ptr<Sender> open_sender(int channel) override {
    return for_slot_size<SlotSender, Sender>(size_, names_.at(static_cast<std::size_t>(channel)));
  }
  std::unique_ptr<Receiver> open_receiver(int channel) override {
    return for_slot_size<SlotReceiver, Receiver>(size_, names_.at(static_cast<std::size_t>(channel)));
  }
  void cleanup() noexcept override {
    for (const auto& name : names_) bip::shared_memory_object::remove(name.c_str());
    names_.clear();
  }

 private:
  std::size_t size_ = 0;
  std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<Transport> make_boost_spsc_queue_transport() { return std::make_unique<BoostSpscQueueTransport>(); }

}  // namespace bench
