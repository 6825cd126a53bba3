#include "shmq/producer.hpp"
#include "shmq/queue.hpp"

#include <cstring>
#include <optional>

#include <spdlog/spdlog.h>

#include "attachment.hpp"
#include "checkpoint.hpp"
#include "recovery.hpp"
#include "ring_reader.hpp"
#include "ring_writer.hpp"
#include "shmq/error.hpp"
#include "shmq/log.hpp"
#include "waiting.hpp"

namespace shmq::detail {

struct ProducerImpl {
  ProducerImpl(QueueFile f, const WaitOptions& w) : file(std::move(f)), wait(w) {}
  ProducerImpl(const ProducerImpl&) = delete;
  ProducerImpl& operator=(const ProducerImpl&) = delete;
  ~ProducerImpl() {
    if (outstanding != nullptr) {  // a Reservation outlives its Producer: make it say so, never dangle
      outstanding->owner_ = nullptr;
      outstanding->orphaned_ = true;
    }
  }
  detail::QueueFile file;
  detail::RingWriter writer;
  std::unique_ptr<detail::Checkpointer> checkpointer;  // durable queues only
  RecoveryReport recovery;
  WaitOptions wait;
  std::optional<Error> broken;         // sticky: once the consumer broke the protocol, every call fails
  Reservation* outstanding = nullptr;  // the reservation not yet committed or abandoned (at most one)
  bool peer_gone_logged = false;

  layout::Header& header() const { return file.header(); }

  void publish_and_wake() noexcept {
    if (writer.publish()) detail::wake(header().data_ready);
    if (checkpointer) checkpointer->published(writer.published_position(), writer.next_sequence());
  }

  void check_usable(std::size_t length) const {
    if (broken) [[unlikely]]
      throw *broken;
    if (checkpointer && checkpointer->failed()) [[unlikely]]
      throw checkpointer->failure();
    if (outstanding != nullptr) [[unlikely]]
      throw Error(ErrorCode::usage, file.path(), "a reservation is outstanding: commit or abandon it first");
    if (length > writer.max_length()) [[unlikely]] {
      throw Error(ErrorCode::invalid_argument, file.path(),
                  "a message of " + std::to_string(length) + " bytes is larger than this queue takes (" +
                      std::to_string(writer.max_length()) +
                      " bytes: the capacity minus 40: two record headers and 8 bytes of alignment)");
    }
  }

  // Runs a writer operation; a corruption error becomes sticky and is logged once.
  template <class F>
  auto guarded(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const Error& e) {
      Error error = detail::with_path(e, file.path());
      if (error.code() == ErrorCode::peer_broke_protocol && !broken) broken = error;
      throw error;
    }
  }

  // Reserves room for `length` bytes, waiting until `deadline` (monotonic ns) unless it is 0
  // (try only). Returns the payload address or the status that ended the wait.
  Result<std::byte*> reserve_until(std::size_t length, std::int64_t deadline) {
    check_usable(length);
    return guarded([&]() -> Result<std::byte*> {
      bool checkpointed = false;
      for (;;) {
        if (std::byte* p = writer.try_reserve(length)) return p;
        if (checkpointer && !checkpointed && writer.has_room_after_checkpoint(writer.room_needed(length))) {
          // The consumer released the space, but only a checkpoint lets us reuse it (a power loss
          // would otherwise restart the consumer inside overwritten records). One per wait round:
          // a consumer whose position flips back and forth cannot keep us checkpointing forever.
          // Staged messages stay staged: a batch becomes visible all at once, or not at all.
          checkpointer->checkpoint_now();
          checkpointed = true;
          continue;
        }
        checkpointed = false;
        if (deadline == 0) {
          // The consumer frees only what it can see: publish what is staged, including the padding
          // try_reserve stages before a record over half the ring, or a retry could never succeed.
          if (writer.has_staged()) publish_and_wake();
          return Status::would_block;
        }
        publish_and_wake();  // staged messages and padding must be visible before we wait on the consumer
        const Status s = detail::wait_until(
            header().space_ready, header().consumer.fencing, wait, deadline,
            [&] {
              const std::uint64_t needed = writer.room_needed(length);
              return writer.has_room(needed) || (checkpointer && writer.has_room_after_checkpoint(needed));
            },
            [&] { return detail::peer_vacant(file, Role::producer); });
        if (s != Status::ok) {
          if (s == Status::peer_gone && !peer_gone_logged) {
            peer_gone_logged = true;
            logger()->warn("consumer of {} is gone and the queue is full", file.path().string());
          }
          return s;
        }
      }
    });
  }

  std::uint64_t commit(std::size_t length, Publish publish) {
    const std::uint64_t sequence = writer.next_sequence();
    writer.commit(length);
    if (publish == Publish::now) publish_and_wake();
    return sequence;
  }

  Result<std::uint64_t> send_until(std::span<const std::byte> message, std::int64_t deadline, Publish publish) {
    Result<std::byte*> room = reserve_until(message.size(), deadline);
    if (!room) return room.status();
    if (!message.empty()) std::memcpy(*room, message.data(), message.size());
    return commit(message.size(), publish);
  }

  Result<Reservation> reservation(std::size_t size, std::int64_t deadline) {
    Result<std::byte*> room = reserve_until(size, deadline);
    if (!room) return room.status();
    return Reservation(this, std::span<std::byte>(*room, size), writer.next_sequence());
  }
};

}  // namespace shmq::detail

namespace shmq {

using detail::Role;

namespace {
constexpr std::int64_t kTryOnly = 0;
}

Producer::Producer(std::unique_ptr<detail::ProducerImpl> impl) noexcept : impl_(std::move(impl)) {}
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&& other) noexcept {
  if (this != &other) {
    Producer old(std::move(*this));  // detaches what this handle held
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Producer::~Producer() {
  if (!impl_) return;
  if (impl_->file.is_forked_copy()) {
    // The parent owns the role and the ring; its checkpointer's thread and locks exist only there
    // (joining or destroying them here could hang), so the copy is left behind, not destroyed.
    (void)impl_->checkpointer.release();
    return;
  }
  impl_->publish_and_wake();  // committed messages become visible even if publish() was forgotten
  if (impl_->checkpointer && !impl_->checkpointer->failed()) {
    try {
      impl_->checkpointer->checkpoint_now();  // a clean exit leaves everything durable
    } catch (const Error&) {
      // logged by the checkpointer; nothing more can be done in a destructor
    }
  }
  impl_->checkpointer.reset();
  detail::detach_role(impl_->file, Role::producer);
}

Producer Producer::create(const std::filesystem::path& path, const CreateOptions& create, const OpenOptions& open) {
  create_queue(path, create);
  return Producer::open(path, open);
}

Producer Producer::open(const std::filesystem::path& path, const OpenOptions& options) {
  auto impl = std::make_unique<detail::ProducerImpl>(detail::QueueFile::open(path, detail::Access::read_write, options),
                                                     options.wait);
  impl->recovery = detail::recover_if_needed(impl->file);
  detail::take_role(impl->file, Role::producer);
  // Resume: the next sequence number is the one after the last published message. Walk from the
  // read position over every published record, checking each, to the first commit word that is
  // still 0 (the commit words say what is published; our predecessor may have been killed after a
  // publication and before its position store, and the consumer may have released past it).
  const detail::RingView view = impl->file.ring_view();
  const detail::LivePositions live = detail::read_live_positions(view, path);
  const detail::Scan walk = detail::scan_records(view, live.read, live.read + view.capacity, live.read_sequence);
  if (walk.fault != detail::RecordFault::not_published) {
    throw Error(ErrorCode::damaged_file, path,
                "live record: " + (walk.stopped.empty() ? std::string("records fill the whole ring") : walk.stopped));
  }
  if (walk.end - live.read < live.write - live.read) {
    throw Error(ErrorCode::damaged_file, path,
                "live record: " + walk.stopped + ", before the write position " + std::to_string(live.write));
  }
  const std::uint64_t waiting = walk.messages;
  const layout::Identity& id = impl->file.identity();
  if ((id.flags & layout::kFlagDurable) != 0) {
    const std::optional<layout::Checkpoint> last = detail::newest_checkpoint(impl->file.header(), id);
    if (!last) throw Error(ErrorCode::damaged_file, path, "durable queue without a valid checkpoint");
    // Untrusted: the published end must lie within one ring of the checkpoint's read position,
    // at or after the checkpoint's write position.
    if (walk.end - last->read_position > view.capacity ||
        last->write_position - last->read_position > walk.end - last->read_position) {
      throw Error(ErrorCode::damaged_file, path,
                  "write position " + std::to_string(walk.end) + " does not follow checkpoint " +
                      std::to_string(last->counter) + " (read " + std::to_string(last->read_position) + ", write " +
                      std::to_string(last->write_position) + ")");
    }
    // What the page cache shows may never have reached the disk: trust nothing, neither for
    // reuse nor for acknowledgements, until this producer has made it durable itself.
    if (const int rc = detail::make_durable_again(impl->file.fd(), view, *last, walk.end); rc != 0) {
      throw Error(ErrorCode::io, path, "cannot make the last checkpoint and the records after it durable", rc);
    }
    // A predecessor's staged batch must never validate after a power loss, whichever versions of
    // its pages the disk kept: clear it, durably, before anything is written over it. Only now:
    // the ring up to the last checkpoint's read position + capacity is free once that checkpoint
    // is on disk (an older one, still in force until then, may need records there).
    if (const int rc = detail::clear_unpublished_commit_words(view, walk.end, last->read_position + view.capacity,
                                                              walk.next_sequence);
        rc != 0) {
      throw Error(ErrorCode::io, path, "cannot clear and sync the records a killed producer staged", rc);
    }
    const CheckpointPolicy policy = options.checkpoints.value_or(
        CheckpointPolicy{id.checkpoint_bytes, std::chrono::milliseconds(id.checkpoint_interval_ms)});
    impl->checkpointer =
        std::make_unique<detail::Checkpointer>(view, path, policy, *last, id.instance_id, walk.end, walk.next_sequence);
    std::atomic<std::uint64_t>& reclaim = impl->checkpointer->durable_read_position();
    // seq_cst (the default) is more than needed: no checkpointer thread has stored to it yet.
    impl->writer = detail::RingWriter(view, walk.end, reclaim.load(), walk.next_sequence, &reclaim);
  } else {
    impl->writer = detail::RingWriter(view, walk.end, live.read, walk.next_sequence);
  }
  // The position word follows the walk at once, not at our first publication: a predecessor
  // killed before its last position store left it behind the records, and the tools, a
  // restarting consumer and recovery read it. Release: pairs with read_live_positions' acquire.
  impl->file.header().producer.sequence.store(walk.next_sequence,
                                              std::memory_order_relaxed);  // ordered by the store below
  impl->file.header().producer.position.store(walk.end, std::memory_order_release);
  detail::announce_attach(impl->file, Role::producer);
  impl->writer.use_membarrier(detail::attach_fencing(impl->file, Role::producer, options.fencing));
  logger()->info("producer attached to {} (next sequence {}, {} messages not yet consumed)", path.string(),
                 walk.next_sequence, waiting);
  return Producer(std::move(impl));
}

Result<std::uint64_t> Producer::try_send(std::span<const std::byte> message, Publish publish) {
  return impl_->send_until(message, kTryOnly, publish);
}
Result<std::uint64_t> Producer::send(std::span<const std::byte> message) {
  return impl_->send_until(message, detail::kNever, Publish::now);
}
Result<std::uint64_t> Producer::send_for(std::span<const std::byte> message, std::chrono::nanoseconds timeout) {
  return impl_->send_until(message, detail::deadline_after(timeout), Publish::now);
}

Result<std::uint64_t> Producer::send_batch(std::span<const std::span<const std::byte>> messages) {
  // Every size is checked before anything is sent: a batch with one message too large sends none.
  for (const auto& message : messages) impl_->check_usable(message.size());
  const std::uint64_t first = impl_->writer.next_sequence();
  try {
    for (const auto& message : messages) {
      Result<std::uint64_t> sent = impl_->send_until(message, detail::kNever, Publish::later);
      if (!sent) {
        impl_->publish_and_wake();
        return sent.status();
      }
    }
  } catch (...) {
    impl_->publish_and_wake();  // what was accepted before the error is not left staged
    throw;
  }
  impl_->publish_and_wake();
  return first;
}

Result<Reservation> Producer::try_reserve(std::size_t size) { return impl_->reservation(size, kTryOnly); }
Result<Reservation> Producer::reserve(std::size_t size) { return impl_->reservation(size, detail::kNever); }
Result<Reservation> Producer::reserve_for(std::size_t size, std::chrono::nanoseconds timeout) {
  return impl_->reservation(size, detail::deadline_after(timeout));
}

void Producer::publish() noexcept { impl_->publish_and_wake(); }

std::uint64_t Producer::sync() {
  if (!impl_->checkpointer)
    throw Error(ErrorCode::usage, impl_->file.path(), "sync() on a queue created without durability");
  impl_->check_usable(0);
  impl_->publish_and_wake();
  return impl_->checkpointer->checkpoint_now();
}

void Producer::wait_durable(std::uint64_t sequence) {
  if (!impl_->checkpointer)
    throw Error(ErrorCode::usage, impl_->file.path(), "wait_durable() on a queue created without durability");
  if (sequence >= impl_->writer.next_sequence()) {
    throw Error(ErrorCode::usage, impl_->file.path(),
                "wait_durable(" + std::to_string(sequence) + "): no such message yet");
  }
  if (impl_->checkpointer->durable_sequence() > sequence) return;
  (void)sync();
}

Watermarks Producer::watermarks() const noexcept {
  Watermarks w;
  w.published = impl_->header().producer.sequence.load(std::memory_order_relaxed);
  w.durable = impl_->checkpointer ? impl_->checkpointer->durable_sequence() : 0;
  w.consumed = impl_->header().consumer.sequence.load(std::memory_order_relaxed);
  w.durable_mode = impl_->checkpointer != nullptr;
  return w;
}

const RecoveryReport& Producer::recovery_report() const noexcept { return impl_->recovery; }
std::uint64_t Producer::next_sequence() const noexcept { return impl_->writer.next_sequence(); }
std::size_t Producer::max_message_size() const noexcept { return static_cast<std::size_t>(impl_->writer.max_length()); }
std::uint64_t Producer::capacity() const noexcept { return impl_->file.identity().capacity; }
const std::filesystem::path& Producer::path() const noexcept { return impl_->file.path(); }
bool Producer::consumer_attached() const {
  return detail::role_held_by_other(impl_->file.fd(), Role::consumer, impl_->file.path());
}
void Producer::set_wait_options(const WaitOptions& wait) noexcept { impl_->wait = wait; }

// ---- Reservation ----

Reservation::Reservation(detail::ProducerImpl* owner, std::span<std::byte> bytes, std::uint64_t sequence) noexcept
    : owner_(owner), bytes_(bytes), sequence_(sequence) {
  owner_->outstanding = this;
}

void Reservation::take_from(Reservation& other) noexcept {
  owner_ = std::exchange(other.owner_, nullptr);
  bytes_ = std::exchange(other.bytes_, {});
  sequence_ = other.sequence_;
  orphaned_ = std::exchange(other.orphaned_, false);
  if (owner_ != nullptr) owner_->outstanding = this;  // the Producer follows the reservation to its new address
}

Reservation::Reservation(Reservation&& other) noexcept { take_from(other); }

Reservation& Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    abandon();
    take_from(other);
  }
  return *this;
}

Reservation::~Reservation() { abandon(); }

void Reservation::abandon() noexcept {
  if (owner_ != nullptr) owner_->outstanding = nullptr;  // nothing was committed: the space is simply reused
  owner_ = nullptr;
}

std::uint64_t Reservation::commit(Publish publish) { return commit(bytes_.size(), publish); }

std::uint64_t Reservation::commit(std::size_t used, Publish publish) {
  if (owner_ == nullptr) {
    throw Error(ErrorCode::usage, {},
                orphaned_ ? "commit of a reservation whose Producer was destroyed"
                          : "commit of a reservation that is empty, committed or abandoned");
  }
  detail::ProducerImpl& impl = *owner_;
  if (used > bytes_.size()) {
    throw Error(ErrorCode::usage, impl.file.path(),
                "commit of " + std::to_string(used) + " bytes into a reservation of " + std::to_string(bytes_.size()));
  }
  impl.outstanding = nullptr;
  owner_ = nullptr;
  return impl.commit(used, publish);
}

}  // namespace shmq
