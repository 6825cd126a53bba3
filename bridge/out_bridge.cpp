#include "out_bridge.hpp"

#include <algorithm>
#include <mutex>
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
// Attempts in a row that a moved last sequence spoilt (another writer, or a server whose stream
// state disagrees with its last message after a restart) before giving up; with the backoff
// between them, about half a minute.
constexpr int kForeignWriterAttempts = 10;

// A negative acknowledgement, as JetStream gave it.
struct Refusal {
  std::uint64_t sequence = 0;  // the queue message's sequence number
  natsStatus status = NATS_OK;
  jsErrCode code = static_cast<jsErrCode>(0);
  std::string text;
};

// Refusals another attempt may cure: no JetStream error at all (a timeout, no responders, a
// broken connection), JetStream unavailable for a moment.
bool is_transient_refusal(const Refusal& r) {
  return r.code == 0 || r.code == JSClusterNotAvailErr || r.code == JSStreamOfflineErr;
}

std::string describe(const Refusal& r) {
  std::string text = r.text.empty() ? natsStatus_GetText(r.status) : r.text;
  if (r.code != 0) text += " (JetStream error " + std::to_string(static_cast<int>(r.code)) + ")";
  return text;
}

// What the acknowledgements of one attempt said (written on libnats's thread).
struct AckTally {
  std::mutex mutex;
  std::uint64_t positive = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t last_stream_sequence = 0;
  std::optional<Refusal> first_refusal;     // the lowest sequence refused for its own reason
  std::optional<Refusal> first_wrong_last;  // the lowest sequence refused for the expected-last check

  void reset() {
    const std::lock_guard lock(mutex);
    positive = duplicates = last_stream_sequence = 0;
    first_refusal.reset();
    first_wrong_last.reset();
  }
};

class OutBridge {
 public:
  OutBridge(const OutOptions& options, const NatsConfig& nats)
      : options_(options),
        nats_(nats),
        consumer_(open_consumer(options.queue)),
        instance_(queue_instance_id(options.queue)),
        legacy_instance_(legacy_instance_id(options.queue)),
        released_(consumer_.next_sequence()),
        printer_(options.stat_interval) {
    if (queue_instance_id(options.queue) != instance_) {
      throw FatalError(options.queue.string() + " was replaced while the bridge opened it; start it again");
    }
    jsOptions_Init(&js_options_);
    js_options_.Wait = options.ack_timeout.count();
    js_options_.PublishAsync.MaxPending = static_cast<int64_t>(options.window);
    js_options_.PublishAsync.AckHandler = &OutBridge::on_ack;
    js_options_.PublishAsync.AckHandlerClosure = this;
    stats_.direction = "out";
  }

  int run() {
    spdlog::info("out: queue {} (instance {}) to stream {}, subject {}; resuming at sequence {}",
                 options_.queue.string(), instance_, options_.stream.name, options_.stream.subject, released_);
    // Connected and checked before the first message: a wrong server, credential, stream or
    // subject is reported now, not when traffic starts.
    if (!open_session()) return stopped();
    while (!finished() && !stop_requested()) {
      report("idle");
      std::vector<shmq::Message> batch = collect_batch();
      if (batch.empty()) continue;
      if (!deliver(batch)) break;  // stopped while the server was away: the batch stays in the queue
      consumer_.release();
      released_ = batch.back().sequence + 1;
      stats_.last_acked = static_cast<std::int64_t>(batch.back().sequence);
    }
    return stopped();
  }

 private:
  static shmq::Consumer open_consumer(const std::filesystem::path& queue) {
    return shmq::Consumer::open(queue, {.wait = {.return_on_peer_gone = false}});
  }

  int stopped() {
    report("stopping");
    spdlog::info("out: stopped; the queue's messages before sequence {} are in JetStream and released", released_);
    return 0;
  }

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
  // while it could not be reached (false). Throws FatalError when JetStream refuses a message for
  // good (the stream's limits): retrying would never succeed.
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
  //
  // Each message carries Nats-Expected-Last-Sequence: the stream sequence the message before it
  // got. JetStream stores it only if that is still the stream's last, so a refused message k
  // makes JetStream refuse k+1.. too: the stream holds exactly a prefix of every attempt, and
  // after any failure the last message stored says where to resume (no duplicate window needed).
  bool publish(const std::vector<shmq::Message>& batch) {
    tally_.reset();
    stats_.in_flight = 0;
    std::uint64_t published = 0;
    for (const shmq::Message& m : batch) {
      if (stored_through_ && m.sequence <= *stored_through_) continue;
      const natsStatus status = publish_one(m, expected_last_ + published);
      if (status != NATS_OK) {
        spdlog::warn("out: publishing sequence {} failed ({}); reconnecting", m.sequence, describe_nats_error(status));
        return false;
      }
      ++published;
      ++stats_.in_flight;
    }
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = options_.ack_timeout.count();
    const natsStatus status = published == 0 ? NATS_OK : js_PublishAsyncComplete(session_->jetstream(), &wait);
    const std::lock_guard lock(tally_.mutex);
    if (tally_.first_refusal && !is_transient_refusal(*tally_.first_refusal)) refuse(*tally_.first_refusal);
    if (status == NATS_OK && !tally_.first_refusal && !tally_.first_wrong_last) {
      stats_.in_flight = 0;
      if (published > 0) {
        expected_last_ = tally_.last_stream_sequence;
        stored_through_ = batch.back().sequence;
        foreign_writer_attempts_ = 0;
      }
      return true;
    }
    if (tally_.first_wrong_last && !tally_.first_refusal && ++foreign_writer_attempts_ >= kForeignWriterAttempts) {
      throw FatalError("stream " + options_.stream.name + "'s last sequence is not the one its last message shows (" +
                       std::to_string(kForeignWriterAttempts) +
                       " attempts in a row): another program stores messages into it (give subject " +
                       options_.stream.subject + " a stream of its own), or the server's stream state is damaged");
    }
    spdlog::warn("out: JetStream did not acknowledge sequences {}..{} ({}); resending what it lacks",
                 batch.front().sequence, batch.back().sequence,
                 tally_.first_refusal      ? "refused: " + describe(*tally_.first_refusal)
                 : tally_.first_wrong_last ? "the stream's last sequence moved: another writer stores into it"
                                           : describe_nats_error(status));
    return false;
  }

  [[noreturn]] void refuse(const Refusal& r) {
    throw FatalError("JetStream refused message " + std::to_string(r.sequence) + " of " + options_.queue.string() +
                     " in stream " + options_.stream.name + ": " + describe(r) +
                     ". The stream holds the messages before it and none after it; nothing is released from the "
                     "queue that it does not hold. Change the stream (its limits) or make room, then start out "
                     "again: it resumes at " +
                     std::to_string(r.sequence));
  }

  natsStatus publish_one(const shmq::Message& m, std::uint64_t expected_last) {
    natsMsg* msg = nullptr;
    natsStatus status = natsMsg_Create(&msg, options_.stream.subject.c_str(), nullptr,
                                       reinterpret_cast<const char*>(m.bytes.data()), static_cast<int>(m.bytes.size()));
    const std::string sequence = std::to_string(m.sequence);
    const std::string id = message_id(instance_, m.sequence);
    if (status == NATS_OK) status = natsMsgHeader_Set(msg, kMsgIdHeader, id.c_str());
    if (status == NATS_OK) status = natsMsgHeader_Set(msg, kInstanceHeader, instance_.c_str());
    if (status == NATS_OK) status = natsMsgHeader_Set(msg, kSequenceHeader, sequence.c_str());
    if (status == NATS_OK && enforce_prefix_) {
      status = natsMsgHeader_Set(msg, kExpectedLastSequenceHeader, std::to_string(expected_last).c_str());
    }
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

  // Connects, checks the stream and the subject, and learns where JetStream's copy of the queue
  // ends.
  bool open_session() {
    Backoff backoff;
    while (!stop_requested()) {
      report("waiting_for_server");
      session_ = NatsSession::connect(nats_, &js_options_);
      if (!session_) return false;
      const StreamCheck stream = ensure_stream(session_->jetstream(), options_.stream, &stream_);
      if (stream == StreamCheck::missing) {
        throw FatalError("stream " + options_.stream.name +
                         " does not exist on the server (create it, or pass --create-stream to create it with file "
                         "storage for subject " +
                         options_.stream.subject + ")");
      }
      if (stream == StreamCheck::ready) {
        const std::optional<StoredOrigin> last =
            last_stored(session_->jetstream(), options_.stream.name, options_.stream.subject);
        if (last) adopt_legacy_instance(*last);
        const std::optional<std::optional<std::uint64_t>> held = last ? held_through(*last) : std::nullopt;
        if (held) {
          if (*held && (!stored_through_ || **held > *stored_through_)) {
            spdlog::info("out: stream {} holds this queue's messages up to sequence {}: not sent again",
                         options_.stream.name, **held);
          }
          stored_through_ = *held;
          // The stream's last sequence; never below the last message seen on the subject (a
          // nats-server 2.9 restarted while messages were arriving can report a last sequence
          // below the messages it serves: trusting it would let a publish overwrite them).
          expected_last_ = std::max(stream_.last_sequence, last->stream_sequence);
          if (last->stream_sequence > stream_.last_sequence) {
            spdlog::warn("out: stream {} reports last sequence {} but serves a message on {} at {}",
                         options_.stream.name, stream_.last_sequence, options_.stream.subject, last->stream_sequence);
          }
          return true;
        }
      }
      spdlog::warn("out: JetStream on the server is not answering yet; retrying");
      drop_session();
      sleep_unless_stopped(backoff.next());
    }
    return false;
  }

  // A stream written by a bridge from before the queue's own instance id was public holds this
  // queue's messages under the id derived from the file (queue_identity.hpp). The bridge keeps
  // that id for this file, so that it neither sends those messages again nor makes `in` see a
  // new source: only a queue created again gets its own id.
  void adopt_legacy_instance(const StoredOrigin& last) {
    if (legacy_adopted_ || !legacy_instance_ || last.instance != *legacy_instance_ || last.instance == instance_)
      return;
    spdlog::info(
        "out: stream {} holds this queue's messages up to sequence {} under the id an older shmq-bridge derived "
        "from the file ({}); the bridge keeps publishing this queue under that id (its own instance id is {})",
        options_.stream.name, last.sequence ? std::to_string(*last.sequence) : "?", *legacy_instance_, instance_);
    instance_ = *legacy_instance_;
    legacy_adopted_ = true;
  }

  // How far JetStream holds this queue's unreleased messages: through the last stored one when
  // the stream holds them one after the other from the first unreleased (as the expected-last
  // check guarantees; a stream written by an older bridge may not); else nothing is assumed held
  // and everything unreleased is sent again without that check, so that the duplicate window
  // drops what it can (a duplicate beats a loss). nullopt when the server did not answer.
  std::optional<std::optional<std::uint64_t>> held_through(const StoredOrigin& last) {
    enforce_prefix_ = true;
    if (last.instance != instance_ || !last.sequence || *last.sequence < released_) {
      return std::optional<std::uint64_t>{};
    }
    const std::uint64_t span = *last.sequence - released_;
    std::optional<bool> contiguous = false;
    if (span < last.stream_sequence) {
      const std::optional<StoredOrigin> first =
          stored_at(session_->jetstream(), options_.stream.name, last.stream_sequence - span);
      if (!first) return std::nullopt;
      contiguous = first->instance == instance_ && first->sequence == released_;
    }
    if (!*contiguous) {
      spdlog::warn(
          "out: stream {} ends at sequence {} of this queue but does not hold {}..{} one after the other: "
          "sending them again",
          options_.stream.name, *last.sequence, released_, *last.sequence);
      enforce_prefix_ = false;
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

  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto* self = static_cast<OutBridge*>(closure);
    AckTally& tally = self->tally_;
    const std::lock_guard lock(tally.mutex);
    if (ack != nullptr) {
      ++tally.positive;
      if (ack->Duplicate) ++tally.duplicates;
      tally.last_stream_sequence = std::max(tally.last_stream_sequence, ack->Sequence);
    } else if (error != nullptr) {
      Refusal r{.sequence = origin_of(msg).sequence.value_or(0),
                .status = error->Err,
                .code = error->ErrCode,
                .text = error->ErrText != nullptr ? error->ErrText : ""};
      spdlog::debug("out: negative acknowledgement of sequence {}: {}", r.sequence, describe(r));
      std::optional<Refusal>& slot =
          r.code == JSStreamWrongLastSequenceErr ? tally.first_wrong_last : tally.first_refusal;
      if (!slot || r.sequence < slot->sequence) slot = std::move(r);
    }
    natsMsg_Destroy(msg);
  }

  const OutOptions& options_;
  const NatsConfig& nats_;
  shmq::Consumer consumer_;
  std::string instance_;
  std::optional<std::string> legacy_instance_;
  bool legacy_adopted_ = false;
  std::uint64_t released_;                       // every message before this is in JetStream and released
  std::optional<std::uint64_t> stored_through_;  // JetStream holds this queue's messages up to here
  StreamState stream_;
  std::uint64_t expected_last_ = 0;  // the stream's last sequence before the next publish
  bool enforce_prefix_ = true;       // send Nats-Expected-Last-Sequence
  int foreign_writer_attempts_ = 0;
  jsOptions js_options_{};
  std::optional<NatsSession> session_;
  bool published_on_session_ = false;
  AckTally tally_;
  BridgeStats stats_;
  StatsPrinter printer_;
};

}  // namespace

int run_out(const OutOptions& options, const NatsConfig& nats) { return OutBridge(options, nats).run(); }

}  // namespace shmq_bridge
