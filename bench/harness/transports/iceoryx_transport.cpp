// Eclipse iceoryx 2.0 (untyped API): true zero-copy, the publisher loans a chunk from RouDi's
// memory pools and publishes it; the subscriber takes and releases it. Busy-poll (take() in a spin)
// and WaitSet (sleep until the subscriber has data). No drops: WAIT_FOR_CONSUMER/BLOCK_PRODUCER.
#include <algorithm>
#include <chrono>
#include <thread>

#include <unistd.h>

#include "../clock.hpp"
#include "transport_factories.hpp"

#ifdef BENCH_HAVE_ICEORYX
#include <iceoryx_hoofs/log/logmanager.hpp>
#include <iceoryx_posh/popo/untyped_publisher.hpp>
#include <iceoryx_posh/popo/untyped_subscriber.hpp>
#include <iceoryx_posh/popo/wait_set.hpp>
#include <iceoryx_posh/runtime/posh_runtime.hpp>

#include "iceoryx_roudi.hpp"

namespace bench {

namespace {

// Through a buffer of the string's full capacity: GCC 12 cannot see that iceoryx's truncating
// constructor never reads past a short C string, and warns.
template <class FixedString>
FixedString fixed_string(const std::string& text) {
  char padded[FixedString::capacity() + 1] = {};
  text.copy(padded, sizeof padded - 1);
  return FixedString(iox::cxx::TruncateToCapacity, padded);
}

iox::capro::IdString_t id(const std::string& text) { return fixed_string<iox::capro::IdString_t>(text); }

// One runtime per process, registered with RouDi under the process's pid.
void ensure_runtime() {
  static bool initialised = false;
  if (initialised) return;
  const std::string name = "shmq-bench-" + std::to_string(getpid());
  // Debian's build logs everything by default; the harness's output is its tables.
  iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn);
  iox::runtime::PoshRuntime::initRuntime(fixed_string<iox::RuntimeName_t>(name));
  initialised = true;
}

template <class Ready>
void wait_until(Ready ready, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline)
      throw Unavailable(std::string("iceoryx: no ") + what + " within 10 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

class IceoryxSender final : public Sender {
 public:
  IceoryxSender(const iox::capro::ServiceDescription& service, std::size_t size)
      : publisher_(service, options()), size_(static_cast<std::uint32_t>(size)) {
    wait_until([&] { return publisher_.hasSubscribers(); }, "subscriber");
  }
  std::span<std::byte> claim() override {
    for (;;) {
      auto loaned = publisher_.loan(size_);
      if (!loaned.has_error()) {
        payload_ = loaned.value();
        return {static_cast<std::byte*>(payload_), size_};
      }
      if (loaned.get_error() != iox::popo::AllocationError::RUNNING_OUT_OF_CHUNKS) {
        throw std::runtime_error("iceoryx loan failed (" + std::to_string(static_cast<int>(loaned.get_error())) + ")");
      }
      cpu_relax();
    }
  }
  void commit() override { publisher_.publish(payload_); }

 private:
  static iox::popo::PublisherOptions options() {
    iox::popo::PublisherOptions options;
    options.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
    return options;
  }
  iox::popo::UntypedPublisher publisher_;
  std::uint32_t size_;
  void* payload_ = nullptr;
};

class IceoryxReceiver final : public Receiver {
 public:
  IceoryxReceiver(const iox::capro::ServiceDescription& service, std::size_t size, std::size_t ring_bytes,
                  IceoryxWait wait)
      : subscriber_(service, options(size, ring_bytes)), size_(size) {
    wait_until([&] { return subscriber_.getSubscriptionState() == iox::SubscribeState::SUBSCRIBED; }, "subscription");
    if (wait == IceoryxWait::wait_set) {
      wait_set_ = std::make_unique<iox::popo::WaitSet<>>();
      if (wait_set_->attachState(subscriber_, iox::popo::SubscriberState::HAS_DATA).has_error()) {
        throw std::runtime_error("iceoryx: attaching the subscriber to a WaitSet failed");
      }
    }
  }
  std::span<const std::byte> receive() override {
    if (held_ != nullptr) subscriber_.release(held_);  // read in place, handed back on the next call
    held_ = nullptr;
    for (;;) {
      auto taken = subscriber_.take();
      if (!taken.has_error()) {
        held_ = taken.value();
        return {static_cast<const std::byte*>(held_), size_};
      }
      if (taken.get_error() != iox::popo::ChunkReceiveResult::NO_CHUNK_AVAILABLE) {
        throw std::runtime_error("iceoryx take failed");
      }
      if (wait_set_) {
        wait_set_->wait();
      } else {
        cpu_relax();
      }
    }
  }

 private:
  static iox::popo::SubscriberOptions options(std::size_t size, std::size_t ring_bytes) {
    iox::popo::SubscriberOptions options;
    options.queueCapacity = std::clamp<std::uint64_t>(ring_bytes / size, 1, iox::MAX_SUBSCRIBER_QUEUE_CAPACITY);
    options.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
    return options;
  }
  iox::popo::UntypedSubscriber subscriber_;
  std::unique_ptr<iox::popo::WaitSet<>> wait_set_;  // destroyed before the subscriber it watches
  std::size_t size_;
  const void* held_ = nullptr;
};

class IceoryxTransport final : public Transport {
 public:
  IceoryxTransport(std::shared_ptr<RoudiProcess> roudi, IceoryxWait wait) : roudi_(std::move(roudi)), wait_(wait) {}
  std::string name() const override {
    return wait_ == IceoryxWait::busy_poll ? "iceoryx busy-poll zero-copy" : "iceoryx WaitSet zero-copy";
  }
  Waiting waiting() const override { return wait_ == IceoryxWait::busy_poll ? Waiting::busy_poll : Waiting::blocking; }
  bool zero_copy() const override { return true; }

  void prepare(int channels, const ChannelSpec& spec) override {
    if (spec.message_size > 131072 - 1024) throw Unavailable("message larger than the largest memory pool");
    roudi_->ensure_running();
    spec_ = spec;
    run_ = unique_resource_name("run");
    channels_ = channels;
  }
  std::unique_ptr<Sender> open_sender(int channel) override {
    ensure_runtime();
    return std::make_unique<IceoryxSender>(service(channel), spec_.message_size);
  }
  std::unique_ptr<Receiver> open_receiver(int channel) override {
    ensure_runtime();
    return std::make_unique<IceoryxReceiver>(service(channel), spec_.message_size, spec_.ring_bytes, wait_);
  }
  void cleanup() noexcept override {}

 private:
  iox::capro::ServiceDescription service(int channel) const {
    if (channel >= channels_) throw std::out_of_range("iceoryx channel");
    return {id("shmq-bench"), id(run_), id("channel-" + std::to_string(channel))};
  }
  std::shared_ptr<RoudiProcess> roudi_;
  IceoryxWait wait_;
  ChannelSpec spec_;
  std::string run_;
  int channels_ = 0;
};

}  // namespace

std::vector<std::unique_ptr<Transport>> make_iceoryx_transports(const Config& config) {
  auto roudi = std::make_shared<RoudiProcess>(config.results_dir);
  std::vector<std::unique_ptr<Transport>> transports;
  transports.push_back(std::make_unique<IceoryxTransport>(roudi, IceoryxWait::busy_poll));
  transports.push_back(std::make_unique<IceoryxTransport>(roudi, IceoryxWait::wait_set));
  return transports;
}

}  // namespace bench

#else

namespace bench {
std::vector<std::unique_ptr<Transport>> make_iceoryx_transports(const Config&) {
  const char* reason = "built without iceoryx (Debian libiceoryx-posh-dev)";
  std::vector<std::unique_ptr<Transport>> transports;
  transports.push_back(make_unavailable_transport("iceoryx busy-poll zero-copy", Waiting::busy_poll, reason));
  transports.push_back(make_unavailable_transport("iceoryx WaitSet zero-copy", Waiting::blocking, reason));
  return transports;
}
}  // namespace bench

#endif
