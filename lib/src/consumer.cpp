#include "shmq/consumer.hpp"

#include <optional>

#include <spdlog/spdlog.h>

#include "attachment.hpp"
#include "checkpoint.hpp"
#include "recovery.hpp"
#include "ring_reader.hpp"
#include "shmq/error.hpp"
#include "shmq/log.hpp"
#include "waiting.hpp"

namespace shmq::detail {

struct ConsumerImpl {
  ConsumerImpl(QueueFile f, const WaitOptions& w) : file(std::move(f)), wait(w) {}
  detail::QueueFile file;
  detail::RingReader reader;
  RecoveryReport recovery;
  WaitOptions wait;
  std::optional<Error> broken;  // sticky: once the producer broke the protocol, every call fails
  bool peer_gone_logged = false;

  layout::Header& header() const { return file.header(); }

  void release_and_wake() noexcept {
    if (reader.release()) detail::wake(header().space_ready);
  }

  // Reads the next message, waiting until `deadline` (monotonic ns) unless it is 0 (try only).
  Result<Message> receive_until(std::int64_t deadline) {
    if (broken) [[unlikely]]
      throw *broken;
    try {
      Message m;
      for (;;) {
        if (reader.try_read(m)) {
          peer_gone_logged = false;
          return m;
        }
        if (reader.release_skipped_padding()) detail::wake(header().space_ready);
        if (deadline == 0) return Status::would_block;
        const Status s = detail::wait_until(
            header().data_ready, header().producer.fencing, wait, deadline, [&] { return reader.ready(); },
            [&] { return detail::peer_vacant(file, Role::consumer); });
        if (s != Status::ok) {
          if (s == Status::peer_gone && !peer_gone_logged) {
            peer_gone_logged = true;
            logger()->info("producer of {} is gone and the queue is drained", file.path().string());
          }
          return s;
        }
      }
    } catch (const Error& e) {
      Error error = with_path(e, file.path());
      if (error.code() == ErrorCode::peer_broke_protocol && !broken) broken = error;
      throw error;
    }
  }
};

}  // namespace shmq::detail

namespace shmq {

using detail::Role;

Consumer::Consumer(std::unique_ptr<detail::ConsumerImpl> impl) noexcept : impl_(std::move(impl)) {}
Consumer::Consumer(Consumer&&) noexcept = default;
Consumer& Consumer::operator=(Consumer&& other) noexcept {
  if (this != &other) {
    Consumer old(std::move(*this));  // detaches what this handle held
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Consumer::~Consumer() {
  if (impl_ && !impl_->file.is_forked_copy())
    detail::detach_role(impl_->file, Role::consumer);  // a fork's copy: the parent owns the role
}

Consumer Consumer::open(const std::filesystem::path& path, const OpenOptions& options) {
  auto impl = std::make_unique<detail::ConsumerImpl>(detail::QueueFile::open(path, detail::Access::read_write, options),
                                                     options.wait);
  impl->recovery = detail::recover_if_needed(impl->file);
  detail::take_role(impl->file, Role::consumer);
  // Resume after the last message our predecessor released.
  const detail::RingView view = impl->file.ring_view();
  const detail::LivePositions live = detail::read_live_positions(view, path);
  detail::announce_attach(impl->file, Role::consumer);
  const bool membarrier = detail::attach_fencing(impl->file, Role::consumer, options.fencing);
  impl->reader = detail::RingReader(view, live.read, live.read_sequence, membarrier);
  logger()->info("consumer attached to {} (next sequence {})", path.string(), live.read_sequence);
  return Consumer(std::move(impl));
}

Result<Message> Consumer::try_receive() { return impl_->receive_until(0); }
Result<Message> Consumer::receive() { return impl_->receive_until(detail::kNever); }
Result<Message> Consumer::receive_for(std::chrono::nanoseconds timeout) {
  return impl_->receive_until(std::max<std::int64_t>(1, detail::deadline_after(timeout)));
}

void Consumer::release() noexcept { impl_->release_and_wake(); }

std::uint64_t Consumer::next_sequence() const noexcept { return impl_->reader.next_sequence(); }
std::uint64_t Consumer::capacity() const noexcept { return impl_->file.identity().capacity; }
const std::filesystem::path& Consumer::path() const noexcept { return impl_->file.path(); }
bool Consumer::producer_attached() const {
  return detail::role_held_by_other(impl_->file.fd(), Role::producer, impl_->file.path());
}
Watermarks Consumer::watermarks() const noexcept {
  const layout::Header& h = impl_->header();
  Watermarks w;
  w.published = h.producer.sequence.load(std::memory_order_relaxed);
  w.consumed = h.consumer.sequence.load(std::memory_order_relaxed);
  w.durable_mode = (impl_->file.identity().flags & layout::kFlagDurable) != 0;
  if (const auto c = detail::newest_checkpoint(h, impl_->file.identity()))
    w.durable = w.durable_mode ? c->write_sequence : 0;
  return w;
}

const RecoveryReport& Consumer::recovery_report() const noexcept { return impl_->recovery; }

void Consumer::set_wait_options(const WaitOptions& wait) noexcept { impl_->wait = wait; }

}  // namespace shmq
