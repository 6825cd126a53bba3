#include "out_bridge.hpp"

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include <shmq/shmq.hpp>

#include "backoff.hpp"
#include "bridge_stats.hpp"
#include "queue_identity.hpp"
#include "shmq_headers.hpp"
#include "stop_signal.hpp"

namespace shmq_bridge {
namespace {

constexpr std::chrono::milliseconds kReceiveSlice{200};  // how late SIGTERM is noticed on an idle queue

class OutBridge {
 public:
  OutBridge(const OutOptions& options, const NatsConfig& nats)
      : options_(options),
        nats_(nats),
        consumer_(shmq::Consumer::open(options.queue, {.wait = {.return_on_peer_gone = false}})),
        instance_(queue_instance_id(options.queue)),
        released_(consumer_.next_sequence()),
        printer_(options.stat_interval) {
    jsOptions_Init(&js_options_);
    js_options_.Wait = options.ack_timeout.count();
    js_options_.PublishAsync.MaxPending = static_cast<int64_t>(options.window);
    js_options_.PublishAsync.ErrHandler = &OutBridge::on_publish_error;
    js_options_.PublishAsync.ErrHandlerClosure = this;
    stats_.direction = "out";
  }

  int run() {
    spdlog::info("out: queue {} (instance {}) to stream {}, subject {}; resuming at sequence {}",
                 options_.queue.string(), instance_, options_.stream.name, options_.stream.subject, released_);
    while (!finished() && !stop_requested()) {
      report("idle");
      std::vector<shmq::Message> batch = collect_batch();
      if (batch.empty()) continue;
      if (!deliver(batch)) break;  // stopped while the server was away: the batch stays in the queue
      consumer_.release();
      released_ = batch.back().sequence + 1;
      stats_.last_acked = static_cast<std::int64_t>(batch.back().sequence);
    }
    report("stopping");
    spdlog::info("out: stopped; the queue's messages before sequence {} are in JetStream and released", released_);
    return 0;
  }

 private:
  bool finished() const { return options_.count != 0 && released_ >= options_.count; }

  // Up to `window` messages, never beyond --count (a received message is released with the rest).
  std::vector<shmq::Message> collect_batch() {
    std::vector<shmq::Message> batch;
    const auto may_take = [&] { return options_.count == 0 || consumer_.next_sequence() < options_.count; };
    if (!may_take()) return batch;
    shmq::Result<shmq::Message> first = consumer_.receive_for(kReceiveSlice);
    if (first.status() != shmq::Status::ok) return batch;
    batch.push_back(*first);
    while (batch.size() < options_.window && may_take()) {
      shmq::Result<shmq::Message> next = consumer_.try_receive();
      if (next.status() != shmq::Status::ok) break;
      batch.push_back(*next);
    }
    return batch;
  }

  // Returns once JetStream holds every message of the batch (true), or when a stop was requested
  // while it could not be reached (false).
  bool deliver(const std::vector<shmq::Message>& batch) {
    Backoff backoff;
    for (;;) {
      if (!session_ && !open_session()) return false;
      report("publishing");
      if (publish(batch)) return true;
      drop_session();
      if (!sleep_unless_stopped(backoff.next())) return false;
    }
  }

  // Publishes the messages JetStream does not hold yet and waits for their acknowledgements.
  bool publish(const std::vector<shmq::Message>& batch) {
    failures_.store(0);
    stats_.in_flight = 0;
    for (const shmq::Message& m : batch) {
      if (stored_through_ && m.sequence <= *stored_through_) continue;
      const natsStatus status = publish_one(m);
      if (status != NATS_OK) {
        spdlog::warn("out: publishing sequence {} failed ({}); reconnecting", m.sequence, describe_nats_error(status));
        return false;
      }
      ++stats_.in_flight;
    }
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = options_.ack_timeout.count();
    const natsStatus status = js_PublishAsyncComplete(session_->jetstream(), &wait);
    if (status != NATS_OK || failures_.load() != 0) {
      spdlog::warn("out: JetStream did not acknowledge sequences {}..{} ({}, {} negative); resending what it lacks",
                   batch.front().sequence, batch.back().sequence,
                   status == NATS_OK ? "all answered" : describe_nats_error(status), failures_.load());
      return false;
    }
    stats_.in_flight = 0;
    stored_through_ = batch.back().sequence;
    return true;
  }

  natsStatus publish_one(const shmq::Message& m) {
    natsMsg* msg = nullptr;
    natsStatus status = natsMsg_Create(&msg, options_.stream.subject.c_str(), nullptr,
                                       reinterpret_cast<const char*>(m.bytes.data()), static_cast<int>(m.bytes.size()));
    const std::string sequence = std::to_string(m.sequence);
    const std::string id = message_id(instance_, m.sequence);
    if (status == NATS_OK) status = natsMsgHeader_Set(msg, kMsgIdHeader, id.c_str());
    if (status == NATS_OK) status = natsMsgHeader_Set(msg, kInstanceHeader, instance_.c_str());
    if (status == NATS_OK) status = natsMsgHeader_Set(msg, kSequenceHeader, sequence.c_str());
    if (status == NATS_OK) {
      published_on_session_ = true;
      status = js_PublishMsgAsync(session_->jetstream(), &msg, nullptr);
    }
    natsMsg_Destroy(msg);              // null once the library took it
    if (status == NATS_MAX_PAYLOAD) {  // no retry can cure it
      throw FatalError("cannot publish message " + sequence + " (" + std::to_string(m.bytes.size()) + " bytes) of " +
                       options_.queue.string() + ": " + describe_nats_error(status));
    }
    return status;
  }

  // Connects, checks the stream, and learns where JetStream's copy of the queue ends.
  bool open_session() {
    Backoff backoff;
    while (!stop_requested()) {
      report("waiting_for_server");
      session_ = NatsSession::connect(nats_, &js_options_);
      if (!session_) return false;
      const StreamCheck stream = ensure_stream(session_->jetstream(), options_.stream);
      if (stream == StreamCheck::missing) {
        throw FatalError("stream " + options_.stream.name +
                         " does not exist on the server (create it, or pass --create-stream to create it with file "
                         "storage for subject " +
                         options_.stream.subject + ")");
      }
      if (stream == StreamCheck::ready) {
        const std::optional<LastStored> last =
            last_stored(session_->jetstream(), options_.stream.name, options_.stream.subject, instance_);
        const std::optional<std::optional<std::uint64_t>> held = last ? held_through(*last) : std::nullopt;
        if (held) {
          if (*held && (!stored_through_ || **held > *stored_through_)) {
            spdlog::info("out: stream {} holds this queue's messages up to sequence {}: not sent again",
                         options_.stream.name, **held);
          }
          stored_through_ = *held;
          return true;
        }
      }
      spdlog::warn("out: JetStream on the server is not answering yet; retrying");
      drop_session();
      sleep_unless_stopped(backoff.next());
    }
    return false;
  }

  // How far JetStream holds this queue's unreleased messages: through the last stored one when
  // the stream holds them one after the other from the first unreleased; else (a message missing
  // in between, or another writer's messages interleaved) nothing is assumed held and everything
  // unreleased is sent again (the duplicate window drops what it can; a duplicate beats a loss).
  // nullopt when the server did not answer.
  std::optional<std::optional<std::uint64_t>> held_through(const LastStored& last) {
    if (!last.sequence || *last.sequence < released_) return std::optional<std::uint64_t>{};
    const std::optional<bool> contiguous =
        holds_contiguously(session_->jetstream(), options_.stream.name, last, released_, instance_);
    if (!contiguous) return std::nullopt;
    if (!*contiguous) {
      spdlog::warn(
          "out: stream {} ends at sequence {} of this queue but does not hold {}..{} one after the other: "
          "sending them again",
          options_.stream.name, *last.sequence, released_, *last.sequence);
      return std::optional<std::uint64_t>{};
    }
    return last.sequence;
  }

  void drop_session() {
    if (!session_) return;
    // Asked only after a publish on this session: libnats 3.4 dereferences the context's pending
    // map, which exists from the first async publish on (a fresh context crashed here).
    natsMsgList pending{};
    if (published_on_session_ && js_PublishAsyncGetPendingList(&pending, session_->jetstream()) == NATS_OK) {
      natsMsgList_Destroy(&pending);
    }
    published_on_session_ = false;
    session_.reset();
  }

  void report(const char* state) {
    stats_.state = state;
    const shmq::Watermarks marks = consumer_.watermarks();
    stats_.lag = static_cast<std::int64_t>(marks.published - released_);
    printer_.maybe_print(stats_);
  }

  static void on_publish_error(jsCtx*, jsPubAckErr* error, void* closure) {
    auto* self = static_cast<OutBridge*>(closure);
    self->failures_.fetch_add(1);
    spdlog::debug("out: negative acknowledgement: {} ({})", error->ErrText ? error->ErrText : "",
                  natsStatus_GetText(error->Err));
  }

  const OutOptions& options_;
  const NatsConfig& nats_;
  shmq::Consumer consumer_;
  std::string instance_;
  std::uint64_t released_;                       // every message before this is in JetStream and released
  std::optional<std::uint64_t> stored_through_;  // JetStream holds this queue's messages up to here
  jsOptions js_options_{};
  std::optional<NatsSession> session_;
  bool published_on_session_ = false;
  std::atomic<std::uint64_t> failures_{0};  // negative acknowledgements of the current batch (libnats's thread)
  BridgeStats stats_;
  StatsPrinter printer_;
};

}  // namespace

int run_out(const OutOptions& options, const NatsConfig& nats) { return OutBridge(options, nats).run(); }

}  // namespace shmq_bridge
