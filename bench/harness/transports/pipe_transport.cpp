// pipe(2): the kernel copies each message in and out; a blocked reader or writer sleeps.
#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "fd_io.hpp"
#include "transport_factories.hpp"

namespace bench {

namespace {

class PipeSender final : public Sender {
 public:
  PipeSender(int fd, std::size_t size) : fd_(fd), staging_(size, std::byte{0x5a}) {}
  std::span<std::byte> claim() override { return staging_; }
  void commit() override { write_all(fd_, staging_); }

 private:
  int fd_;
  std::vector<std::byte> staging_;
};

class PipeReceiver final : public Receiver {
 public:
  PipeReceiver(int fd, std::size_t size) : fd_(fd), buffer_(size) {}
  std::span<const std::byte> receive() override {
    read_all(fd_, buffer_);
    return buffer_;
  }

 private:
  int fd_;
  std::vector<std::byte> buffer_;
};

class PipeTransport final : public Transport {
 public:
  std::string name() const override { return "pipe"; }
  Waiting waiting() const override { return Waiting::blocking; }

  void prepare(int channels, const ChannelSpec& spec) override {
    size_ = spec.message_size;
    for (int channel = 0; channel < channels; ++channel) {
      int fds[2];
      if (pipe(fds) != 0) throw Unavailable(errno_text("pipe"));
      // The pipe buffer gets the run's ring size (best effort: pipe-max-size may refuse it).
      fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(spec.ring_bytes));
      pipes_.push_back({fds[0], fds[1]});
    }
  }
  std::unique_ptr<Sender> open_sender(int channel) override {
    return std::make_unique<PipeSender>(pipes_.at(static_cast<std::size_t>(channel)).write_end, size_);
  }
  std::unique_ptr<Receiver> open_receiver(int channel) override {
    return std::make_unique<PipeReceiver>(pipes_.at(static_cast<std::size_t>(channel)).read_end, size_);
  }
  void cleanup() noexcept override {
    for (const auto& p : pipes_) {
      close(p.read_end);
      close(p.write_end);
    }
    pipes_.clear();
  }

 private:
  struct Pipe {
    int read_end;
    int write_end;
  };
  std::size_t size_ = 0;
  std::vector<Pipe> pipes_;
};

}  // namespace

std::unique_ptr<Transport> make_pipe_transport() { return std::make_unique<PipeTransport>(); }

}  // namespace bench
