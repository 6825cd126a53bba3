// Unix domain socket pairs: SOCK_STREAM (a byte stream, framed by the fixed message size) and
// SOCK_SEQPACKET (the kernel keeps message boundaries). Both block.
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "fd_io.hpp"
#include "transport_factories.hpp"

namespace bench {

namespace {

class SocketSender final : public Sender {
 public:
  SocketSender(int fd, std::size_t size, UnixSocketKind kind) : fd_(fd), staging_(size, std::byte{0x5a}), kind_(kind) {}
  std::span<std::byte> claim() override { return staging_; }
  void commit() override {
    if (kind_ == UnixSocketKind::stream) {
      write_all(fd_, staging_);
      return;
    }
    for (;;) {
      const ssize_t sent = ::send(fd_, staging_.data(), staging_.size(), 0);
      if (sent >= 0) return;
      if (errno == EINTR) continue;
      throw std::runtime_error(errno_text("send"));
    }
  }

 private:
  int fd_;
  std::vector<std::byte> staging_;
  UnixSocketKind kind_;
};

class SocketReceiver final : public Receiver {
 public:
  SocketReceiver(int fd, std::size_t size, UnixSocketKind kind) : fd_(fd), buffer_(size), kind_(kind) {}
  std::span<const std::byte> receive() override {
    if (kind_ == UnixSocketKind::stream) {
      read_all(fd_, buffer_);
      return buffer_;
    }
    for (;;) {
      const ssize_t got = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
      if (got > 0) return std::span<const std::byte>(buffer_).first(static_cast<std::size_t>(got));
      if (got < 0 && errno == EINTR) continue;
      throw std::runtime_error(got == 0 ? std::string("recv: the peer closed the socket") : errno_text("recv"));
    }
  }

 private:
  int fd_;
  std::vector<std::byte> buffer_;
  UnixSocketKind kind_;
};

class UnixSocketTransport final : public Transport {
 public:
  explicit UnixSocketTransport(UnixSocketKind kind) : kind_(kind) {}
  std::string name() const override {
    return kind_ == UnixSocketKind::stream ? "Unix socket stream" : "Unix socket seqpacket";
  }
  Waiting waiting() const override { return Waiting::blocking; }

  void prepare(int channels, const ChannelSpec& spec) override {
    size_ = spec.message_size;
    const int type = kind_ == UnixSocketKind::stream ? SOCK_STREAM : SOCK_SEQPACKET;
    for (int channel = 0; channel < channels; ++channel) {
      int fds[2];
      if (socketpair(AF_UNIX, type, 0, fds) != 0) throw Unavailable(errno_text("socketpair"));
      pairs_.push_back({fds[0], fds[1]});
      // The socket buffers get the run's ring size (best effort; the kernel doubles and caps it).
      const int buffer = static_cast<int>(spec.ring_bytes);
      setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
      setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    }
  }
  std::unique_ptr<Sender> open_sender(int channel) override {
    return std::make_unique<SocketSender>(pairs_.at(static_cast<std::size_t>(channel)).sending, size_, kind_);
  }
  std::unique_ptr<Receiver> open_receiver(int channel) override {
    return std::make_unique<SocketReceiver>(pairs_.at(static_cast<std::size_t>(channel)).receiving, size_, kind_);
  }
  void cleanup() noexcept override {
    for (const auto& p : pairs_) {
      close(p.sending);
      close(p.receiving);
    }
    pairs_.clear();
  }

 private:
  struct Pair {
    int sending;
    int receiving;
  };
  UnixSocketKind kind_;
  std::size_t size_ = 0;
  std::vector<Pair> pairs_;
};

}  // namespace

std::unique_ptr<Transport> make_unix_socket_transport(UnixSocketKind kind) {
  return std::make_unique<UnixSocketTransport>(kind);
}

}  // namespace bench
