#include "in_bridge.hpp"

#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include <shmq/shmq.hpp>

#include "backoff.hpp"
#include "bridge_stats.hpp"
#include "shmq_headers.hpp"
#include "stop_signal.hpp"
#include "stream_setup.hpp"

namespace shmq_bridge {
namespace {

constexpr std::chrono::milliseconds kFetchWait{500};  // one fetch waits this long for messages
constexpr std::chrono::milliseconds kSendSlice{200};  // how late SIGTERM is noticed on a full queue

struct SubscriptionDeleter {
  void operator()(natsSubscription* s) const noexcept { natsSubscription_Destroy(s); }
};
using Subscription = std::unique_ptr<natsSubscription, SubscriptionDeleter>;

// The messages of one fetch, destroyed together.
struct FetchedMessages {
  natsMsgList list{};
  ~FetchedMessages() { natsMsgList_Destroy(&list); }
};

shmq::Producer open_local_queue(const InOptions& options) {
  const shmq::OpenOptions open{.wait = {.return_on_peer_gone = false}};
  if (options.create && !std::filesystem::exists(options.queue)) {
    spdlog::info("in: creating queue {}", options.queue.string());
    return shmq::Producer::create(options.queue, {.capacity = options.capacity, .durable = options.durable}, open);
  }
  return shmq::Producer::open(options.queue, open);
}

class InBridge {
 public:
  InBridge(const InOptions& options, const NatsConfig& nats)
      : options_(options), nats_(nats), producer_(open_local_queue(options)), printer_(options.stat_interval) {
    stats_.direction = "in";
    durable_ = producer_.watermarks().durable_mode;
  }

  int run() {
    spdlog::info("in: stream {} (consumer {}) to queue {}; the queue expects sequence {} next", options_.stream,
                 options_.consumer, options_.queue.string(), producer_.next_sequence());
    Backoff backoff;
    while (!finished() && !stop_requested()) {
      if (!subscription_ && !subscribe()) break;
      report("idle");
      FetchedMessages fetched;
      const int wanted = static_cast<int>(
          options_.count == 0 ? options_.batch
                              : std::min<std::uint64_t>(options_.batch, options_.count - producer_.next_sequence()));
      jsErrCode js_error = static_cast<jsErrCode>(0);
      const natsStatus status =
          natsSubscription_Fetch(&fetched.list, subscription_.get(), wanted, kFetchWait.count(), &js_error);
      if (status == NATS_TIMEOUT) continue;  // nothing new
      if (status != NATS_OK) {
        spdlog::warn("in: fetching from stream {} failed ({}); reconnecting", options_.stream,
                     describe_nats_error(status, js_error));
        drop_session();
        sleep_unless_stopped(backoff.next());
        continue;
      }
      backoff.reset();
      if (!deliver(fetched.list)) drop_subscription();  // out of order: read again from the ack floor
    }
    if (session_) natsConnection_FlushTimeout(session_->connection(), 5000);  // the last acks
    report("stopping");
    spdlog::info("in: stopped; queue {} holds messages up to sequence {}", options_.queue.string(),
                 static_cast<std::int64_t>(producer_.next_sequence()) - 1);
    return 0;
  }

 private:
  bool finished() const { return options_.count != 0 && producer_.next_sequence() >= options_.count; }

  // Publishes the new messages of a fetch in the local queue, then acknowledges them and the
  // redelivered ones. False when a message came out of order (the rest stay unacknowledged).
  bool deliver(natsMsgList& list) {
    std::vector<natsMsg*> settled;  // published now or before: to acknowledge
    std::optional<std::uint64_t> last_published;
    bool in_order = true;
    report("publishing");
    for (int i = 0; i < list.Count && !stop_requested(); ++i) {
      natsMsg* msg = list.Msgs[i];
      const std::uint64_t sequence = source_sequence(msg);
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
    for (natsMsg* msg : settled) natsMsg_Ack(msg, nullptr);  // a lost ack means a redelivery, filtered
    stats_.in_flight = 0;
    stats_.last_acked = static_cast<std::int64_t>(producer_.next_sequence()) - 1;
    return in_order;
  }

  std::uint64_t source_sequence(natsMsg* msg) const {
    const char* text = nullptr;
    std::optional<std::uint64_t> sequence;
    if (natsMsgHeader_Get(msg, kSequenceHeader, &text) == NATS_OK) sequence = parse_sequence(text);
    if (!sequence) {
      throw FatalError("stream " + options_.stream + " holds a message on " + natsMsg_GetSubject(msg) +
                       " without a valid " + kSequenceHeader + " header: not written by shmq-bridge out");
    }
    return *sequence;
  }

  void note_out_of_order(std::uint64_t sequence, std::uint64_t expected) {
    if (repositioned_) {
      throw FatalError("stream " + options_.stream + " continues at source sequence " + std::to_string(sequence) +
                       " but queue " + options_.queue.string() + " expects " + std::to_string(expected) +
                       ": messages " + std::to_string(expected) + ".." + std::to_string(sequence - 1) +
                       " are not in the stream (was the local queue created for another stream?)");
    }
    spdlog::info("in: got sequence {} while expecting {}; reading again from the consumer's ack floor", sequence,
                 expected);
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

  // Connects, and reads the stream with the durable consumer positioned after its ack floor.
  bool subscribe() {
    Backoff backoff;
    while (!stop_requested()) {
      report("waiting_for_server");
      if (!session_) session_ = NatsSession::connect(nats_);
      if (!session_) return false;
      const natsStatus status = position_consumer();
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

  // Every message up to the consumer's ack floor is in the local queue (acked only after that);
  // the consumer is recreated to deliver from the next one at once, in stream order, instead of
  // redelivering its predecessor's unacknowledged messages after ack_wait.
  natsStatus position_consumer() {
    jsCtx* js = session_->jetstream();
    const StreamCheck stream =
        ensure_stream(js, {.name = options_.stream, .subject = {}, .create = false, .duplicate_window = {}});
    if (stream == StreamCheck::missing) return NATS_NOT_FOUND;
    if (stream != StreamCheck::ready) return NATS_TIMEOUT;
    const std::optional<std::string> subject = options_.subject.empty() ? stream_subject(js) : options_.subject;
    if (!subject) return NATS_TIMEOUT;
    std::uint64_t start = 1;
    jsConsumerInfo* info = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    natsStatus status =
        js_GetConsumerInfo(&info, js, options_.stream.c_str(), options_.consumer.c_str(), nullptr, &js_error);
    if (status == NATS_OK) {
      start = info->AckFloor.Stream + 1;
      jsConsumerInfo_Destroy(info);
      status = js_DeleteConsumer(js, options_.stream.c_str(), options_.consumer.c_str(), nullptr, &js_error);
      if (status != NATS_OK) return status;
    } else if (status != NATS_NOT_FOUND && js_error != JSConsumerNotFoundErr) {
      return status;
    }
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = options_.consumer.c_str();
    config.AckPolicy = js_AckExplicit;
    config.DeliverPolicy = js_DeliverByStartSequence;
    config.OptStartSeq = start;
    config.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.ack_wait).count();
    config.FilterSubject = subject->c_str();
    status = js_AddConsumer(&info, js, options_.stream.c_str(), &config, nullptr, &js_error);
    if (status != NATS_OK) return status;
    jsConsumerInfo_Destroy(info);
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
    jsStreamInfo* info = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    const natsStatus status = js_GetStreamInfo(&info, js, options_.stream.c_str(), nullptr, &js_error);
    if (status != NATS_OK) {
      spdlog::warn("in: stream {}: {}; retrying", options_.stream, describe_nats_error(status, js_error));
      return std::nullopt;
    }
    std::string subject = info->Config->SubjectsLen == 1 ? info->Config->Subjects[0] : "";
    jsStreamInfo_Destroy(info);
    if (subject.empty()) {
      throw FatalError("stream " + options_.stream + " has several subjects: say which with --subject");
    }
    return subject;
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
  bool durable_ = false;
  bool repositioned_ = false;  // repositioned since the last message published: a second gap is real
  bool stream_missing_logged_ = false;
  std::optional<NatsSession> session_;
  Subscription subscription_;
  BridgeStats stats_;
  StatsPrinter printer_;
};

}  // namespace

int run_in(const InOptions& options, const NatsConfig& nats) { return InBridge(options, nats).run(); }

}  // namespace shmq_bridge
