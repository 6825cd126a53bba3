// POSIX message queues (mq_open): kernel-copied messages with boundaries; blocking.
// Limits: /proc/sys/fs/mqueue/msgsize_max (8192 by default) and msg_max (10) bind unprivileged
// processes; CAP_SYS_RESOURCE (root) may exceed them up to the kernel's hard limits. The bytes of
// all queues also count against RLIMIT_MSGQUEUE, which the harness raises when it may.
#include <fcntl.h>
#include <mqueue.h>
#include <sys/resource.h>

#include <algorithm>
#include <vector>

#include "fd_io.hpp"
#include "transport_factories.hpp"

namespace bench {

namespace {

mqd_t open_queue(const std::string& name, int flags) {
  const mqd_t queue = mq_open(name.c_str(), flags);
  if (queue == static_cast<mqd_t>(-1)) throw std::runtime_error(errno_text("mq_open"));
  return queue;
}

class MqueueSender final : public Sender {
 public:
  MqueueSender(const std::string& name, std::size_t size)
      : queue_(open_queue(name, O_WRONLY)), staging_(size, std::byte{0x5a}) {}
  ~MqueueSender() override { mq_close(queue_); }
  std::span<std::byte> claim() override { return staging_; }
  void commit() override {
    while (mq_send(queue_, reinterpret_cast<const char*>(staging_.data()), staging_.size(), 0) != 0) {
      if (errno != EINTR) throw std::runtime_error(errno_text("mq_send"));
    }
  }

 private:
  mqd_t queue_;
  std::vector<std::byte> staging_;
};

class MqueueReceiver final : public Receiver {
 public:
  MqueueReceiver(const std::string& name, std::size_t size) : queue_(open_queue(name, O_RDONLY)), buffer_(size) {}
  ~MqueueReceiver() override { mq_close(queue_); }
  std::span<const std::byte> receive() override {
    for (;;) {
      const ssize_t got = mq_receive(queue_, reinterpret_cast<char*>(buffer_.data()), buffer_.size(), nullptr);
      if (got >= 0) return std::span<const std::byte>(buffer_).first(static_cast<std::size_t>(got));
      if (errno != EINTR) throw std::runtime_error(errno_text("mq_receive"));
    }
  }

 private:
  mqd_t queue_;
  std::vector<std::byte> buffer_;
};

// Depths to try, deepest first: what was asked, then halving down to the default msg_max of 10.
// msg_max and RLIMIT_MSGQUEUE (shared by all of the user's queues) decide which one the kernel takes.
std::vector<long> depths_to_try(long wanted) {
  std::vector<long> depths;
  for (long depth = wanted; depth > 10; depth /= 2) depths.push_back(depth);
  depths.push_back(10);
  return depths;
}

class PosixMqueueTransport final : public Transport {
 public:
  std::string name() const override { return "POSIX mqueue"; }
  Waiting waiting() const override { return Waiting::blocking; }

  void prepare(int channels, const ChannelSpec& spec) override {
    size_ = spec.message_size;
    rlimit limit{};
    if (getrlimit(RLIMIT_MSGQUEUE, &limit) == 0 && limit.rlim_cur != limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;  // any process may raise its soft limit to the hard one
      setrlimit(RLIMIT_MSGQUEUE, &limit);
    }
    std::string base = "/";  // a POSIX queue name is "/" and one path component
    base += unique_resource_name("shmq-bench-mq");
    for (int channel = 0; channel < channels; ++channel) {
      const std::string name = base + "-" + std::to_string(channel);
      const long wanted = static_cast<long>(std::clamp<std::size_t>(spec.ring_bytes / size_, 10, 4096));
      mq_attr attr{};
      attr.mq_msgsize = static_cast<long>(size_);
      mqd_t queue = static_cast<mqd_t>(-1);
      for (long depth : depths_to_try(wanted)) {
        attr.mq_maxmsg = depth;
        queue = mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        if (queue != static_cast<mqd_t>(-1) || (errno != EINVAL && errno != EMFILE)) break;
      }
      if (queue == static_cast<mqd_t>(-1)) {
        throw Unavailable(errno_text("mq_open") + " (message size " + std::to_string(size_) +
                          "; see /proc/sys/fs/mqueue/msgsize_max)");
      }
      mq_close(queue);
      names_.push_back(name);
      note_ = attr.mq_maxmsg < wanted ? "queue depth " + std::to_string(attr.mq_maxmsg) + " messages of " +
                                            std::to_string(size_) + " B (msg_max, RLIMIT_MSGQUEUE)"
                                      : "";
    }
  }
  std::string note() const override { return note_; }
  std::unique_ptr<Sender> open_sender(int channel) override {
    return std::make_unique<MqueueSender>(names_.at(static_cast<std::size_t>(channel)), size_);
  }
  std::unique_ptr<Receiver> open_receiver(int channel) override {
    return std::make_unique<MqueueReceiver>(names_.at(static_cast<std::size_t>(channel)), size_);
  }
  void cleanup() noexcept override {
    for (const auto& name : names_) mq_unlink(name.c_str());
    names_.clear();
  }

 private:
  std::size_t size_ = 0;
  std::vector<std::string> names_;
  std::string note_;
};

}  // namespace

std::unique_ptr<Transport> make_posix_mqueue_transport() { return std::make_unique<PosixMqueueTransport>(); }

}  // namespace bench
