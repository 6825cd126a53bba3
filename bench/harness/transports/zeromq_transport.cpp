// ZeroMQ PAIR sockets over ipc:// (a Unix socket underneath, plus ZeroMQ's I/O thread).
// The receiver binds, the sender connects; a PAIR sender blocks (never drops) at its high-water
// mark, which is set from the run's ring size.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

#include "transport_factories.hpp"

#ifdef BENCH_HAVE_ZEROMQ
#include <zmq.h>

namespace bench {

namespace {

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + zmq_strerror(zmq_errno()));
}

// One context per process, terminated (flushing queued messages) when its last socket closes.
class Context {
 public:
  static std::shared_ptr<Context> get() {
    static std::weak_ptr<Context> shared;
    auto context = shared.lock();
    if (!context) shared = context = std::make_shared<Context>();
    return context;
  }
  Context() : handle_(zmq_ctx_new()) {
    if (handle_ == nullptr) fail("zmq_ctx_new");
  }
  ~Context() { zmq_ctx_term(handle_); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  void* handle() const noexcept { return handle_; }

 private:
  void* handle_;
};

class Socket {
 public:
  Socket(int high_water_mark, int buffer_bytes)
      : context_(Context::get()), handle_(zmq_socket(context_->handle(), ZMQ_PAIR)) {
    if (handle_ == nullptr) fail("zmq_socket");
    zmq_setsockopt(handle_, ZMQ_SNDHWM, &high_water_mark, sizeof high_water_mark);
    zmq_setsockopt(handle_, ZMQ_RCVHWM, &high_water_mark, sizeof high_water_mark);
    zmq_setsockopt(handle_, ZMQ_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
    zmq_setsockopt(handle_, ZMQ_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
  }
  ~Socket() { zmq_close(handle_); }  // linger: the context's termination waits for queued messages
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  void* handle() const noexcept { return handle_; }

 private:
  std::shared_ptr<Context> context_;  // declared first: destroyed after the socket is closed
  void* handle_;
};

class ZeromqSender final : public Sender {
 public:
  ZeromqSender(const std::string& endpoint, std::size_t size, int hwm, int buffer)
      : socket_(hwm, buffer), staging_(size, std::byte{0x5a}) {
    if (zmq_connect(socket_.handle(), endpoint.c_str()) != 0) fail("zmq_connect");
  }
  std::span<std::byte> claim() override { return staging_; }
  void commit() override {
    while (zmq_send(socket_.handle(), staging_.data(), staging_.size(), 0) < 0) {
      if (zmq_errno() != EINTR) fail("zmq_send");
    }
  }

 private:
  Socket socket_;
  std::vector<std::byte> staging_;
};

class ZeromqReceiver final : public Receiver {
 public:
  ZeromqReceiver(const std::string& endpoint, int hwm, int buffer) : socket_(hwm, buffer) {
    if (zmq_bind(socket_.handle(), endpoint.c_str()) != 0) fail("zmq_bind");
    zmq_msg_init(&message_);
  }
  ~ZeromqReceiver() override { zmq_msg_close(&message_); }
  std::span<const std::byte> receive() override {
    while (zmq_msg_recv(&message_, socket_.handle(), 0) < 0) {
      if (zmq_errno() != EINTR) fail("zmq_msg_recv");
    }
    return {static_cast<const std::byte*>(zmq_msg_data(&message_)), zmq_msg_size(&message_)};
  }

 private:
  Socket socket_;
  zmq_msg_t message_;
};

class ZeromqTransport final : public Transport {
 public:
  std::string name() const override { return "ZeroMQ PAIR ipc"; }
  Waiting waiting() const override { return Waiting::blocking; }

  void prepare(int channels, const ChannelSpec& spec) override {
    size_ = spec.message_size;
    high_water_mark_ = static_cast<int>(std::clamp<std::size_t>(spec.ring_bytes / size_, 16, 65536));
    buffer_bytes_ = static_cast<int>(spec.ring_bytes);
    const std::string base = unique_resource_name("/tmp/shmq-bench-zmq");
    for (int channel = 0; channel < channels; ++channel) paths_.push_back(base + "-" + std::to_string(channel));
  }
  std::unique_ptr<Sender> open_sender(int channel) override {
    return std::make_unique<ZeromqSender>("ipc://" + paths_.at(static_cast<std::size_t>(channel)), size_,
                                          high_water_mark_, buffer_bytes_);
  }
  std::unique_ptr<Receiver> open_receiver(int channel) override {
    return std::make_unique<ZeromqReceiver>("ipc://" + paths_.at(static_cast<std::size_t>(channel)), high_water_mark_,
                                            buffer_bytes_);
  }
  void cleanup() noexcept override {
    std::error_code ignored;
    for (const auto& path : paths_) std::filesystem::remove(path, ignored);
    paths_.clear();
  }

 private:
  std::size_t size_ = 0;
  int high_water_mark_ = 1000;
  int buffer_bytes_ = 0;
  std::vector<std::string> paths_;
};

}  // namespace

std::unique_ptr<Transport> make_zeromq_transport() { return std::make_unique<ZeromqTransport>(); }

}  // namespace bench

#else

namespace bench {
std::unique_ptr<Transport> make_zeromq_transport() {
  return make_unavailable_transport("ZeroMQ PAIR ipc", Waiting::blocking, "built without libzmq (Debian libzmq3-dev)");
}
}  // namespace bench

#endif
