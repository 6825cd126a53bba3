// shmq itself, in five ways of using it: busy-poll (try_send/try_receive in a spin), the same with
// record checksums on (what they cost; durable queues have them by default), batched
// (try_send with Publish::later, one publish() per kBatch messages), zero-copy (try_reserve and
// commit in place), and blocking (send/receive: spin, then park on a futex); and durable (a queue
// file under --disk-dir, busy-poll copying send) with 1 ms or 10 ms checkpoints, or with sync()
// after every kBatch messages. The "full fences" rows force the fallback wake protocol
// (OpenOptions::fencing = full: one fence per publication and release instead of membarrier).
#include <bit>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <shmq/shmq.hpp>

#include "../clock.hpp"
#include "transport_factories.hpp"

namespace bench {

namespace {

// The consumer hands messages back in groups (one store per group), and always before it waits.
constexpr unsigned kReleaseEvery = 64;
// The batched producer publishes every kBatch messages, when the ring is full, and at flush().
constexpr unsigned kBatch = 32;

[[noreturn]] void fail(const char* what, shmq::Status status) {
  throw std::runtime_error(std::string(what) + ": " + shmq::to_string(status));
}

class CopyingSender final : public Sender {
 public:
  CopyingSender(shmq::Producer producer, std::size_t size, ShmqMode mode)
      : producer_(std::move(producer)), staging_(size, std::byte{0x5a}), mode_(mode) {}
  std::span<std::byte> claim() override { return staging_; }
  void commit() override {
    if (mode_ == ShmqMode::blocking || mode_ == ShmqMode::blocking_full_fences) {
      if (auto sent = producer_.send(staging_); !sent) fail("send", sent.status());
      return;
    }
    const bool staging = mode_ == ShmqMode::batched || mode_ == ShmqMode::durable_sync;
    const auto publish = staging ? shmq::Publish::later : shmq::Publish::now;
    for (;;) {
      auto sent = producer_.try_send(staging_, publish);
      if (sent) break;
      if (sent.status() != shmq::Status::would_block) fail("try_send", sent.status());
      if (staged_ != 0) flush();  // a full ring: let the consumer see what is staged
      cpu_relax();
    }
    if (staging && ++staged_ == kBatch) flush();
  }
  void flush() override {
    if (mode_ == ShmqMode::durable_sync) {
      producer_.sync();  // publishes, then returns once a checkpoint covers everything sent
    } else {
      producer_.publish();
    }
    staged_ = 0;
  }

 private:
  shmq::Producer producer_;
  std::vector<std::byte> staging_;
  ShmqMode mode_;
  unsigned staged_ = 0;
};

class ZeroCopySender final : public Sender {
 public:
  ZeroCopySender(shmq::Producer producer, std::size_t size) : producer_(std::move(producer)), size_(size) {}
  std::span<std::byte> claim() override {
    for (;;) {
      auto reserved = producer_.try_reserve(size_);
      if (reserved) {
        reservation_ = std::move(reserved.value());
        return reservation_.bytes().first(size_);
      }
      if (reserved.status() != shmq::Status::would_block) fail("try_reserve", reserved.status());
      cpu_relax();
    }
  }
  void commit() override { reservation_.commit(size_); }

 private:
  shmq::Producer producer_;
  std::size_t size_;
  shmq::Reservation reservation_;
};

class ShmqReceiver final : public Receiver {
 public:
  ShmqReceiver(shmq::Consumer consumer, bool blocking) : consumer_(std::move(consumer)), blocking_(blocking) {}
  std::span<const std::byte> receive() override {
    if (held_ >= kReleaseEvery) release();
    for (;;) {
      auto message = consumer_.try_receive();
      if (message) {
        ++held_;
        return message->bytes;
      }
      if (message.status() != shmq::Status::would_block) fail("try_receive", message.status());
      release();  // never wait while holding messages the producer may need room for
      if (blocking_) {
        auto waited = consumer_.receive();
        if (!waited) fail("receive", waited.status());
        ++held_;
        return waited->bytes;
      }
      cpu_relax();
    }
  }

 private:
  void release() noexcept {
    if (held_ == 0) return;
    consumer_.release();
    held_ = 0;
  }
  shmq::Consumer consumer_;
  bool blocking_;
  unsigned held_ = 0;
};

bool is_durable(ShmqMode mode) {
  return mode == ShmqMode::durable_1ms || mode == ShmqMode::durable_10ms || mode == ShmqMode::durable_sync;
}

class ShmqTransport final : public Transport {
 public:
  ShmqTransport(const Config& config, ShmqMode mode)
      : queue_dir_(is_durable(mode) ? config.disk_dir : config.queue_dir), mode_(mode) {}

  std::string name() const override { return shmq_transport_name(mode_); }
  Waiting waiting() const override { return blocking() ? Waiting::blocking : Waiting::busy_poll; }
  bool zero_copy() const override { return mode_ == ShmqMode::zero_copy; }
  bool is_peer() const override { return false; }
  bool throughput_only() const override { return is_durable(mode_); }

  void prepare(int channels, const ChannelSpec& spec) override {
    spec_ = spec;
    shmq::CreateOptions create;
    create.capacity = std::bit_ceil(std::max<std::uint64_t>(spec.ring_bytes, 4096));
    if (spec.message_size > shmq::max_message_size(create.capacity)) throw Unavailable("message larger than the ring");
    if (mode_ == ShmqMode::checksummed) create.checksums = true;
    if (is_durable(mode_)) {
      create.durable = true;  // checksums: the durable default (on)
      create.checkpoints = {0, mode_ == ShmqMode::durable_1ms    ? std::chrono::milliseconds{1}
                               : mode_ == ShmqMode::durable_10ms ? std::chrono::milliseconds{10}
                                                                 : std::chrono::milliseconds{0}};
    }
    const std::string base = unique_resource_name("shmq-bench");
    for (int channel = 0; channel < channels; ++channel) {
      paths_.push_back(queue_dir_ / (base + "-" + std::to_string(channel)));
      shmq::create_queue(paths_.back(), create);
    }
  }
  std::unique_ptr<Sender> open_sender(int channel) override {
    auto producer = shmq::Producer::open(paths_.at(static_cast<std::size_t>(channel)), open_options());
    if (mode_ == ShmqMode::zero_copy) return std::make_unique<ZeroCopySender>(std::move(producer), spec_.message_size);
    return std::make_unique<CopyingSender>(std::move(producer), spec_.message_size, mode_);
  }
  std::unique_ptr<Receiver> open_receiver(int channel) override {
    auto consumer = shmq::Consumer::open(paths_.at(static_cast<std::size_t>(channel)), open_options());
    return std::make_unique<ShmqReceiver>(std::move(consumer), blocking());
  }
  void cleanup() noexcept override {
    std::error_code ignored;
    for (const auto& path : paths_) std::filesystem::remove(path, ignored);
    paths_.clear();
  }

 private:
  bool blocking() const { return mode_ == ShmqMode::blocking || mode_ == ShmqMode::blocking_full_fences; }
  shmq::OpenOptions open_options() const {
    shmq::OpenOptions options;
    if (mode_ == ShmqMode::busy_poll_full_fences || mode_ == ShmqMode::blocking_full_fences)
      options.fencing = shmq::Fencing::full;
    return options;
  }

  std::filesystem::path queue_dir_;
  ShmqMode mode_;
  ChannelSpec spec_;
  std::vector<std::filesystem::path> paths_;
};

}  // namespace

std::string shmq_transport_name(ShmqMode mode) {
  switch (mode) {
    case ShmqMode::busy_poll:
      return "shmq busy-poll";
    case ShmqMode::checksummed:
      return "shmq busy-poll checksums";
    case ShmqMode::batched:
      return "shmq busy-poll batched";
    case ShmqMode::zero_copy:
      return "shmq busy-poll zero-copy";
    case ShmqMode::blocking:
      return "shmq blocking";
    case ShmqMode::durable_1ms:
      return "shmq durable 1 ms checkpoints";
    case ShmqMode::durable_10ms:
      return "shmq durable 10 ms checkpoints";
    case ShmqMode::durable_sync:
      return "shmq durable sync every 32";
    case ShmqMode::busy_poll_full_fences:
      return "shmq busy-poll full fences";
    case ShmqMode::blocking_full_fences:
      return "shmq blocking full fences";
  }
  return "shmq";
}

std::unique_ptr<Transport> make_shmq_transport(const Config& config, ShmqMode mode) {
  return std::make_unique<ShmqTransport>(config, mode);
}

}  // namespace bench
