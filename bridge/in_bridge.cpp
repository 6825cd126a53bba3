#include "in_bridge.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include <shmq/shmq.hpp>

#include "backoff.hpp"
#include "bridge_stats.hpp"
#include "in_record.hpp"
#include "queue_identity.hpp"
#include "shmq_headers.hpp"
#include "stop_signal.hpp"
#include "stream_setup.hpp"

namespace shmq_bridge {
namespace {

constexpr std::chrono::milliseconds kFetchWait{500};  // one fetch waits this long for messages
constexpr std::chrono::milliseconds kSendSlice{200};  // how late SIGTERM is noticed on a full queue
// JetStream's default max_ack_pending; the bridge's consumer allows at least --batch.
constexpr std::int64_t kDefaultMaxAckPending = 1000;
// The bytes one fetch asks for at least: far below the 64 MiB the server lets a slow client fall
// behind before it drops it, far above what a fetch of small messages needs.
constexpr std::int64_t kFetchBytes = std::int64_t{8} << 20;

struct SubscriptionDeleter {
  void operator()(natsSubscription* s) const noexcept { natsSubscription_Destroy(s); }
};
using Subscription = std::unique_ptr<natsSubscription, SubscriptionDeleter>;

// The messages of one fetch, destroyed together.
struct FetchedMessages {
  natsMsgList list{};
  ~FetchedMessages() { natsMsgList_Destroy(&list); }
};

struct ConsumerInfoDeleter {
  void operator()(jsConsumerInfo* i) const noexcept { jsConsumerInfo_Destroy(i); }
};
using ConsumerInfo = std::unique_ptr<jsConsumerInfo, ConsumerInfoDeleter>;

shmq::Producer open_local_queue(const InOptions& options) {
  const shmq::OpenOptions open{.wait = {.return_on_peer_gone = false}};
  if (options.create && !std::filesystem::exists(options.queue)) {
    spdlog::info("in: creating queue {}", options.queue.string());
    return shmq::Producer::create(options.queue, {.capacity = options.capacity, .durable = options.durable}, open);
  }
  return shmq::Producer::open(options.queue, open);
}

// The source queue B follows, and where its message 0 is in the stream.
struct Following {
  std::string instance;
  std::uint64_t start = 0;  // stream sequence of the source's message 0; 0: unknown
};

class InBridge {
 public:
  InBridge(const InOptions& options, const NatsConfig& nats)
      : options_(options),
        nats_(nats),
        producer_(open_local_queue(options)),
        queue_instance_(queue_instance_id(options.queue)),
        record_path_(record_path(options.queue)),
        printer_(options.stat_interval) {
    stats_.direction = "in";
    durable_ = producer_.watermarks().durable_mode;
    if (queue_instance_id(options.queue) != queue_instance_) {
      throw FatalError(options.queue.string() + " was replaced while the bridge opened it; start it again");
    }
    load_record();
  }

  int run() {
    spdlog::info("in: stream {} (consumer {}) to queue {}; the queue expects sequence {} next", options_.stream,
                 options_.consumer, options_.queue.string(), producer_.next_sequence());
    Backoff backoff;
    while (!finished() && !stop_requested()) {
      if (!subscription_ && !subscribe()) break;
      report("idle");
      FetchedMessages fetched;
      const natsStatus status = fetch(fetched.list);
      if (status == NATS_TIMEOUT) continue;  // nothing new
      if (status != NATS_OK) {
        spdlog::warn("in: fetching from stream {} failed ({}); reconnecting", options_.stream,
                     describe_nats_error(status));
        drop_session();
        sleep_unless_stopped(backoff.next());
        continue;
      }
      backoff.reset();
      if (!deliver(fetched.list)) drop_subscription();  // read again from where B stands
    }
    if (session_) natsConnection_FlushTimeout(session_->connection(), 5000);  // the last acks
    report("stopping");
    spdlog::info("in: stopped; queue {} holds messages up to sequence {}", options_.queue.string(),
                 static_cast<std::int64_t>(producer_.next_sequence()) - 1);
    return 0;
  }

 private:
  bool finished() const { return options_.count != 0 && producer_.next_sequence() >= options_.count; }

  // ---- what B follows ----

  void load_record() {
    const std::optional<InRecord> r = read_record(record_path_);
    if (!r) return;
    if (r->queue_instance != queue_instance_) {
      spdlog::info("in: {} describes an earlier queue at this path (instance {}, this one is {}): not used",
                   record_path_.string(), r->queue_instance, queue_instance_);
      return;
    }
    if (r->stream != options_.stream || r->consumer != options_.consumer) {
      throw FatalError(
          "queue " + options_.queue.string() + " is filled from stream " + r->stream + " by consumer " + r->consumer +
          " (" + record_path_.string() + "), not from stream " + options_.stream + " by consumer " + options_.consumer +
          ": its sequence numbers are that stream's source's; give this stream and consumer another queue");
    }
    following_ = Following{r->source_instance, r->source_start};
  }

  void follow(const Following& f) {
    following_ = f;
    write_record(record_path_, {.queue_instance = queue_instance_,
                                .stream = options_.stream,
                                .consumer = options_.consumer,
                                .source_instance = f.instance,
                                .source_start = f.start});
    spdlog::info("in: queue {} follows source queue instance {} (its message 0 is at stream sequence {})",
                 options_.queue.string(), f.instance, f.start);
  }

  // The source's message 0, from one of its messages at `origin`: the stream holds a source's
  // messages one after the other (shmq-bridge out's expected-last check), so it is `sequence`
  // positions before. Throws when the stream does not hold it there.
  Following locate_start(jsCtx* js, const StoredOrigin& origin) {
    const std::uint64_t s = *origin.sequence;
    std::optional<StoredOrigin> first = StoredOrigin{};
    if (s < origin.stream_sequence) {
      first = stored_at(js, options_.stream, origin.stream_sequence - s);
      if (!first) throw TransientFailure{};
    }
    if (first->stream_sequence == 0 || first->instance != origin.instance || first->sequence != 0) {
      throw FatalError("queue " + options_.queue.string() + " is new (or empty), and stream " + options_.stream +
                       " does not hold source instance " + origin.instance + " from its message 0 (its message " +
                       std::to_string(s) + " is at stream sequence " + std::to_string(origin.stream_sequence) +
                       "): B's sequence numbers are the source's, so B cannot be filled from it. Read it into a queue "
                       "of its own with a new consumer name");
    }
    return Following{origin.instance, first->stream_sequence};
  }

  // B holds messages and no record says the bridge put them there: accepted only when B's
  // position is one the consumer's deliveries explain (B filled by an older shmq-bridge in).
  void adopt_unrecorded_queue(jsCtx* js, const jsConsumerInfo* info, std::uint64_t next) {
    const auto refuse = [&](const std::string& why) {
      throw FatalError("queue " + options_.queue.string() + " holds messages 0.." + std::to_string(next - 1) +
                       " that shmq-bridge in did not put there from stream " + options_.stream + " (" + why +
                       "). The bridge numbers B's messages with the source's sequence numbers, so it would take them "
                       "for the stream's messages 0.." +
                       std::to_string(next - 1) + " and drop those. Give in an empty queue (--create makes one)");
    };
    if (info == nullptr) refuse("consumer " + options_.consumer + " does not exist");
    const std::optional<StoredOrigin> delivered = stored_at(js, options_.stream, info->Delivered.Stream);
    const std::optional<StoredOrigin> floor = stored_at(js, options_.stream, info->AckFloor.Stream);
    if (!delivered || !floor) throw TransientFailure{};
    if (!delivered->sequence || delivered->instance.empty()) {
      refuse("consumer " + options_.consumer + " has delivered no message of shmq-bridge out");
    }
    const std::uint64_t acked_through =
        floor->instance == delivered->instance && floor->sequence ? *floor->sequence + 1 : 0;
    if (next > *delivered->sequence + 1 || next < acked_through) {
      refuse("consumer " + options_.consumer + " has delivered source messages up to " +
             std::to_string(*delivered->sequence) + ", acknowledged " +
             (acked_through == 0 ? std::string("none") : "up to " + std::to_string(acked_through - 1)));
    }
    spdlog::info("in: queue {} has no record; its next sequence {} matches what consumer {} delivered",
                 options_.queue.string(), next, options_.consumer);
    follow(locate_start(js, *delivered));
  }

  // Where the consumer starts reading: B's next message, or the first the consumer has not
  // settled. Sets following_ when it can be learnt from what the consumer did before.
  std::uint64_t start_position(jsCtx* js, const jsConsumerInfo* info) {
    const std::uint64_t next = producer_.next_sequence();
    if (!following_ && next > 0) adopt_unrecorded_queue(js, info, next);
    std::optional<StoredOrigin> floor = StoredOrigin{};
    if (info != nullptr) floor = stored_at(js, options_.stream, info->AckFloor.Stream);
    if (!floor) throw TransientFailure{};
    if (following_) {
      if (info != nullptr) check_position(js, info, *floor, next);
      // The source's message `next` is at least this far into its run: the stream holds its
      // messages in order, at most with copies in between.
      std::uint64_t start = following_->start + next;
      if (floor->instance == following_->instance && floor->sequence && *floor->sequence < next) {
        start = std::max(start, floor->stream_sequence + 1);
      }
      return start;
    }
    // A new (empty) B without a record.
    if (info != nullptr && floor->sequence && info->NumPending == 0 && info->NumAckPending == 0) {
      // Nothing after the ack floor: B (created again, the receiving host rebooted) receives the
      // history of the source the consumer last delivered, now, from its message 0.
      follow(locate_start(js, *floor));
      spdlog::info("in: queue {} is new; filling it with source instance {}'s messages from 0", options_.queue.string(),
                   following_->instance);
      return following_->start;
    }
    return info != nullptr ? info->AckFloor.Stream + 1 : 1;  // the first message delivered decides
  }

  // B's position against the consumer's: everything the consumer acknowledged is in B (else B
  // lost messages: they are delivered again from the stream), and B holds nothing the consumer
  // did not deliver (else another producer wrote into B).
  void check_position(jsCtx* js, const jsConsumerInfo* info, const StoredOrigin& floor, std::uint64_t next) {
    const std::optional<StoredOrigin> delivered = stored_at(js, options_.stream, info->Delivered.Stream);
    if (!delivered) throw TransientFailure{};
    if (delivered->instance == following_->instance && delivered->sequence && next > *delivered->sequence + 1) {
      throw FatalError("queue " + options_.queue.string() + " expects source sequence " + std::to_string(next) +
                       " next, but consumer " + options_.consumer + " delivered only up to " +
                       std::to_string(*delivered->sequence) +
                       ": something other than shmq-bridge in wrote into it, and the bridge would drop the stream's "
                       "messages in its place. Give in a queue of its own");
    }
    if (floor.instance == following_->instance && floor.sequence && next <= *floor.sequence) {
      spdlog::warn(
          "in: queue {} expects source sequence {} next, but consumer {} had acknowledged up to {} (the queue was "
          "repaired or replaced): delivering {}.. again from the stream",
          options_.queue.string(), next, options_.consumer, *floor.sequence, next);
    }
  }

  // ---- reading ----

  // Up to --batch messages (never more than the consumer lets be unacknowledged), and never more
  // bytes than kFetchBytes or two of the largest messages the server carries: a batch of large
  // messages must not outgrow what the server lets a client have pending. Returns what is there
  // at once; when nothing is, waits up to kFetchWait for the first message.
  natsStatus fetch(natsMsgList& list) {
    const std::uint64_t left = options_.count == 0 ? options_.batch : options_.count - producer_.next_sequence();
    jsFetchRequest request;
    jsFetchRequest_Init(&request);
    request.Batch = static_cast<int>(std::min<std::uint64_t>({options_.batch, left, max_ack_pending_}));
    request.MaxBytes = std::max<std::int64_t>(kFetchBytes, 2 * natsConnection_GetMaxPayload(session_->connection()));
    request.Expires = std::chrono::nanoseconds(kFetchWait).count();
    request.NoWait = true;
    natsStatus status = natsSubscription_FetchRequest(&list, subscription_.get(), &request);
    if (status != NATS_NOT_FOUND && status != NATS_TIMEOUT) return status;
    jsFetchRequest_Init(&request);
    request.Batch = 1;  // returns with the first message; the next fetch takes what followed it
    request.MaxBytes = 0;
    request.Expires = std::chrono::nanoseconds(kFetchWait).count();
    status = natsSubscription_FetchRequest(&list, subscription_.get(), &request);
    return status == NATS_NOT_FOUND ? NATS_TIMEOUT : status;
  }

  // Publishes the new messages of a fetch in the local queue, then acknowledges them and the
  // redelivered ones. False when the consumer must be positioned again (a message out of order,
  // or a new B learnt which source to follow); throws when the source queue changed.
  bool deliver(natsMsgList& list) {
    std::vector<natsMsg*> settled;  // published now or before: to acknowledge
    std::optional<std::uint64_t> last_published;
    bool in_order = true;
    std::optional<std::string> source_changed;
    report("publishing");
    for (int i = 0; i < list.Count && !stop_requested(); ++i) {
      natsMsg* msg = list.Msgs[i];
      const StoredOrigin origin = checked_origin(msg);
      if (!following_) {
        const Following f = locate_start(session_->jetstream(), origin);
        follow(f);
        if (f.start != origin.stream_sequence) {  // read it from its message 0
          in_order = false;
          break;
        }
      }
      if (origin.instance != following_->instance) {
        source_changed = describe_source_change(origin);
        break;
      }
      const std::uint64_t sequence = *origin.sequence;
      const std::uint64_t expected = producer_.next_sequence();
      if (sequence > expected) {
        note_out_of_order(sequence, expected);
        in_order = false;
        break;
      }
      if (sequence == expected) {
        if (!publish_locally(msg, sequence)) break;  // stopped while the queue was full
        last_published = sequence;
        repositioned_ = false;
      }
      settled.push_back(msg);
      update_lag(msg);
    }
    stats_.in_flight = settled.size();
    if (durable_ && last_published) producer_.wait_durable(*last_published);
    // One acknowledgement per fetch: the consumer acknowledges all (AckAll) up to the last message
    // settled, and every message before it in the stream is settled too (in stream order, the
    // fetch stops at the first it cannot settle). A lost ack means a redelivery, filtered.
    if (!settled.empty()) natsMsg_Ack(settled.back(), nullptr);
    stats_.in_flight = 0;
    stats_.last_acked = static_cast<std::int64_t>(producer_.next_sequence()) - 1;
    if (source_changed) {
      natsConnection_FlushTimeout(session_->connection(), 5000);
      throw FatalError(*source_changed);
    }
    return in_order;
  }

  std::string describe_source_change(const StoredOrigin& origin) const {
    const std::uint64_t next = producer_.next_sequence();
    return "stream " + options_.stream + " continues at stream sequence " + std::to_string(origin.stream_sequence) +
           " with another source queue: instance " + origin.instance + " (its message " +
           std::to_string(*origin.sequence) + ") instead of instance " + following_->instance +
           ", whose messages up to " + std::to_string(static_cast<std::int64_t>(next) - 1) + " queue " +
           options_.queue.string() +
           " holds. The source queue was created again (a reboot empties /dev/shm). B's sequence numbers are "
           "the source's and never go back, so in stops here and acknowledges none of the new source's messages. "
           "To go on: let B's consumer finish B, remove B (shmq remove " +
           options_.queue.string() + "), and start in again with --create: the new B receives instance " +
           origin.instance + " from its message 0";
  }

  StoredOrigin checked_origin(natsMsg* msg) const {
    StoredOrigin origin = origin_of(msg);
    if (!origin.sequence || origin.instance.empty()) {
      throw FatalError("stream " + options_.stream + " holds a message on " + natsMsg_GetSubject(msg) +
                       " without valid " + kInstanceHeader + " and " + kSequenceHeader +
                       " headers: not written by shmq-bridge out");
    }
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      origin.stream_sequence = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
    return origin;
  }

  void note_out_of_order(std::uint64_t sequence, std::uint64_t expected) {
    if (repositioned_) {
      throw FatalError("stream " + options_.stream + " continues at source sequence " + std::to_string(sequence) +
                       " but queue " + options_.queue.string() + " expects " + std::to_string(expected) +
                       ": messages " + std::to_string(expected) + ".." + std::to_string(sequence - 1) +
                       " are not in the stream");
    }
    spdlog::info("in: got sequence {} while expecting {}; reading again from there", sequence, expected);
    repositioned_ = true;
  }

  bool publish_locally(natsMsg* msg, std::uint64_t sequence) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(natsMsg_GetData(msg)),
                                           static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    bool waiting_logged = false;
    while (!stop_requested()) {
      const shmq::Result<std::uint64_t> sent = producer_.send_for(bytes, kSendSlice);
      if (sent.status() == shmq::Status::ok) {
        if (*sent != sequence) {  // only this process produces into the queue: cannot happen
          throw FatalError("queue " + options_.queue.string() + " numbered message " + std::to_string(sequence) +
                           " as " + std::to_string(*sent));
        }
        return true;
      }
      if (!waiting_logged) {
        spdlog::info("in: queue {} is full; waiting for its consumer", options_.queue.string());
        waiting_logged = true;
        report("waiting_for_queue");
      }
    }
    return false;
  }

  // ---- the consumer ----

  // A failure to read the stream that a new session may cure.
  struct TransientFailure {};

  // Connects, and reads the stream with the durable consumer positioned at B's next message.
  bool subscribe() {
    Backoff backoff;
    while (!stop_requested()) {
      report("waiting_for_server");
      if (!session_) session_ = NatsSession::connect(nats_);
      if (!session_) return false;
      natsStatus status = NATS_TIMEOUT;
      try {
        status = position_consumer();
      } catch (const TransientFailure&) {
      }
      if (status == NATS_OK) return true;
      if (status == NATS_NOT_FOUND) {  // the stream, not yet created: keep the session and wait
        if (!stream_missing_logged_) {
          spdlog::warn(
              "in: stream {} does not exist (yet); waiting for it to be created (shmq-bridge out "
              "--create-stream)",
              options_.stream);
          stream_missing_logged_ = true;
        }
        sleep_unless_stopped(backoff.next());
        continue;
      }
      spdlog::warn("in: cannot set up consumer {} on stream {} ({}); retrying", options_.consumer, options_.stream,
                   describe_nats_error(status));
      drop_session();
      sleep_unless_stopped(backoff.next());
    }
    return false;
  }

  // The consumer is recreated at every (re)start, at B's next message: it delivers in stream
  // order at once instead of redelivering its predecessor's unacknowledged messages after the ack
  // wait, and B decides where it starts, so a B repaired or created again is served correctly.
  natsStatus position_consumer() {
    jsCtx* js = session_->jetstream();
    const StreamCheck stream = ensure_stream(js, {.name = options_.stream, .subject = {}});
    if (stream == StreamCheck::missing) return NATS_NOT_FOUND;
    if (stream != StreamCheck::ready) return NATS_TIMEOUT;
    const std::optional<std::string> subject = options_.subject.empty() ? stream_subject(js) : options_.subject;
    if (!subject) return NATS_TIMEOUT;
    jsConsumerInfo* raw_info = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    natsStatus status =
        js_GetConsumerInfo(&raw_info, js, options_.stream.c_str(), options_.consumer.c_str(), nullptr, &js_error);
    ConsumerInfo info(raw_info);
    if (status != NATS_OK && status != NATS_NOT_FOUND && js_error != JSConsumerNotFoundErr) return status;
    const std::uint64_t start = start_position(js, info.get());
    if (info) {
      status = js_DeleteConsumer(js, options_.stream.c_str(), options_.consumer.c_str(), nullptr, &js_error);
      if (status != NATS_OK) return status;
    }
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = options_.consumer.c_str();
    config.AckPolicy = js_AckAll;
    config.DeliverPolicy = js_DeliverByStartSequence;
    config.OptStartSeq = start;
    config.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.ack_wait).count();
    config.MaxAckPending = std::max<std::int64_t>(kDefaultMaxAckPending, static_cast<std::int64_t>(options_.batch));
    config.FilterSubject = subject->c_str();
    status = js_AddConsumer(&raw_info, js, options_.stream.c_str(), &config, nullptr, &js_error);
    if (status != NATS_OK) return status;
    info.reset(raw_info);
    // What the server granted (an account limit may lower it): a fetch beyond it would wait out
    // its whole timeout.
    max_ack_pending_ = info->Config->MaxAckPending > 0 ? static_cast<std::uint64_t>(info->Config->MaxAckPending)
                                                       : static_cast<std::uint64_t>(kDefaultMaxAckPending);
    jsSubOptions bind;
    jsSubOptions_Init(&bind);
    bind.Stream = options_.stream.c_str();
    bind.Consumer = options_.consumer.c_str();
    natsSubscription* raw = nullptr;
    status = js_PullSubscribe(&raw, js, subject->c_str(), options_.consumer.c_str(), nullptr, &bind, &js_error);
    if (status != NATS_OK) return status;
    subscription_.reset(raw);
    spdlog::info("in: consumer {} reads stream {} ({}) from stream sequence {}", options_.consumer, options_.stream,
                 *subject, start);
    return NATS_OK;
  }

  // The stream's only subject; nullopt when the server did not answer.
  std::optional<std::string> stream_subject(jsCtx* js) const {
    StreamState state;
    if (ensure_stream(js, {.name = options_.stream, .subject = {}}, &state) != StreamCheck::ready) return std::nullopt;
    if (state.subjects.size() != 1) {
      throw FatalError("stream " + options_.stream + " has several subjects: say which with --subject");
    }
    return state.subjects.front();
  }

  void update_lag(natsMsg* msg) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) return;
    stats_.lag = static_cast<std::int64_t>(meta->NumPending);
    jsMsgMetaData_Destroy(meta);
  }

  void drop_subscription() { subscription_.reset(); }
  void drop_session() {
    subscription_.reset();
    session_.reset();
  }

  void report(const char* state) {
    stats_.state = state;
    printer_.maybe_print(stats_);
  }

  const InOptions& options_;
  const NatsConfig& nats_;
  shmq::Producer producer_;
  std::string queue_instance_;
  std::filesystem::path record_path_;
  std::optional<Following> following_;
  bool durable_ = false;
  bool repositioned_ = false;  // repositioned since the last message published: a second gap is real
  bool stream_missing_logged_ = false;
  std::uint64_t max_ack_pending_ = kDefaultMaxAckPending;
  std::optional<NatsSession> session_;
  Subscription subscription_;
  BridgeStats stats_;
  StatsPrinter printer_;
};

}  // namespace

int run_in(const InOptions& options, const NatsConfig& nats) { return InBridge(options, nats).run(); }

}  // namespace shmq_bridge
