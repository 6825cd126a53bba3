#include <atomic>

#include <unistd.h>

#include "transport_factories.hpp"

namespace bench {

namespace {

class UnavailableTransport final : public Transport {
 public:
  UnavailableTransport(std::string name, Waiting waiting, std::string reason)
      : name_(std::move(name)), waiting_(waiting), reason_(std::move(reason)) {}
  std::string name() const override { return name_; }
  Waiting waiting() const override { return waiting_; }
  void prepare(int, const ChannelSpec&) override { throw Unavailable(reason_); }
  std::unique_ptr<Sender> open_sender(int) override { throw Unavailable(reason_); }
  std::unique_ptr<Receiver> open_receiver(int) override { throw Unavailable(reason_); }
  void cleanup() noexcept override {}

 private:
  std::string name_;
  Waiting waiting_;
  std::string reason_;
};

}  // namespace

std::unique_ptr<Transport> make_unavailable_transport(std::string name, Waiting waiting, std::string reason) {
  return std::make_unique<UnavailableTransport>(std::move(name), waiting, std::move(reason));
}

std::string unique_resource_name(const std::string& prefix) {
  static std::atomic<unsigned> counter{0};
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

std::vector<std::unique_ptr<Transport>> make_all_transports(const Config& config) {
  std::vector<std::unique_ptr<Transport>> all;
  all.push_back(make_shmq_transport(config, ShmqMode::busy_poll));
  all.push_back(make_shmq_transport(config, ShmqMode::checksummed));
  all.push_back(make_shmq_transport(config, ShmqMode::batched));
  all.push_back(make_shmq_transport(config, ShmqMode::zero_copy));
  all.push_back(make_shmq_transport(config, ShmqMode::blocking));
  all.push_back(make_shmq_transport(config, ShmqMode::busy_poll_full_fences));
  all.push_back(make_shmq_transport(config, ShmqMode::blocking_full_fences));
  all.push_back(make_shmq_transport(config, ShmqMode::durable_1ms));
  all.push_back(make_shmq_transport(config, ShmqMode::durable_10ms));
  all.push_back(make_shmq_transport(config, ShmqMode::durable_sync));
  all.push_back(make_boost_spsc_queue_transport());
  all.push_back(make_boost_message_queue_transport());
  for (auto& iceoryx : make_iceoryx_transports(config)) all.push_back(std::move(iceoryx));
  all.push_back(make_zeromq_transport());
  all.push_back(make_pipe_transport());
  all.push_back(make_unix_socket_transport(UnixSocketKind::stream));
  all.push_back(make_unix_socket_transport(UnixSocketKind::seqpacket));
  all.push_back(make_posix_mqueue_transport());
  return all;
}

}  // namespace bench
