// Boost.Interprocess message_queue: a bounded queue of fixed-size slots in POSIX shared memory,
// guarded by a process-shared mutex and condition variables (so it blocks).
#include <algorithm>
#include <vector>

#include <boost/interprocess/ipc/message_queue.hpp>

#include "transport_factories.hpp"

namespace bench {

namespace {

namespace bip = boost::interprocess;

class MessageQueueSender final : public Sender {
 public:
  MessageQueueSender(const std::string& name, std::size_t size)
      : queue_(bip::open_only, name.c_str()), staging_(size, std::byte{0x5a}) {}
  std::span<std::byte> claim() override { return staging_; }
  void commit() override { queue_.send(staging_.data(), staging_.size(), 0); }

 private:
  bip::message_queue queue_;
  std::vector<std::byte> staging_;
};

class MessageQueueReceiver final : public Receiver {
 public:
  MessageQueueReceiver(const std::string& name, std::size_t size)
      : queue_(bip::open_only, name.c_str()), buffer_(size) {}
  std::span<const std::byte> receive() override {
    bip::message_queue::size_type received = 0;
    unsigned priority = 0;
    queue_.receive(buffer_.data(), buffer_.size(), received, priority);
    return std::span<const std::byte>(buffer_).first(received);
  }

 private:
  bip::message_queue queue_;
  std::vector<std::byte> buffer_;
};

class BoostMessageQueueTransport final : public Transport {
 public:
  std::string name() const override { return "Boost message_queue"; }
  Waiting waiting() const override { return Waiting::blocking; }

  void prepare(int channels, const ChannelSpec& spec) override {
    size_ = spec.message_size;
    const std::size_t depth = std::clamp<std::size_t>(spec.ring_bytes / spec.message_size, 16, 16384);
    const std::string base = unique_resource_name("shmq-bench-boost-mq");
    for (int channel = 0; channel < channels; ++channel) {
      names_.push_back(base + "-" + std::to_string(channel));
      try {
        bip::message_queue created(bip::create_only, names_.back().c_str(), depth, size_);
      } catch (const bip::interprocess_exception& e) {
        throw Unavailable(std::string("message_queue create: ") + e.what());
      }
    }
  }
  std::unique_ptr<Sender> open_sender(int channel) override {
    return std::make_unique<MessageQueueSender>(names_.at(static_cast<std::size_t>(channel)), size_);
  }
  std::unique_ptr<Receiver> open_receiver(int channel) override {
    return std::make_unique<MessageQueueReceiver>(names_.at(static_cast<std::size_t>(channel)), size_);
  }
  void cleanup() noexcept override {
    for (const auto& name : names_) bip::message_queue::remove(name.c_str());
    names_.clear();
  }

 private:
  std::size_t size_ = 0;
  std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<Transport> make_boost_message_queue_transport() {
  return std::make_unique<BoostMessageQueueTransport>();
}

}  // namespace bench
