#include "agent.hpp"
#include "tally.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "payload.hpp"
#include "shmq/shmq.hpp"

namespace shmq::torture {

const char* to_string(Role role) {
  switch (role) {
    case Role::producer:
      return "producer";
    case Role::consumer:
      return "consumer";
    case Role::admin:
      return "admin";
  }
  return "?";
}

const char* to_string(Op op) {
  static const char* const kNames[] = {"open",
                                       "close",
                                       "fork_copy",
                                       "try_send",
                                       "send",
                                       "send_for",
                                       "send_batch",
                                       "reserve_commit",
                                       "reserve_abandon",
                                       "publish",
                                       "sync",
                                       "wait_durable",
                                       "stage_and_die",
                                       "stream",
                                       "try_receive",
                                       "receive_for",
                                       "receive",
                                       "release",
                                       "poll",
                                       "follow",
                                       "repair",
                                       "create_on_full_disk"};
  const auto i = static_cast<std::size_t>(op);
  return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "?";
}

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

void copy_text(char (&out)[400], const std::string& text) { std::snprintf(out, sizeof out, "%s", text.c_str()); }

Outcome outcome_of(Status s) {
  switch (s) {
    case Status::ok:
      return Outcome::ok;
    case Status::would_block:
      return Outcome::would_block;
    case Status::timed_out:
      return Outcome::timed_out;
    case Status::peer_gone:
      return Outcome::peer_gone;
  }
  return Outcome::error;
}

// The child side: runs commands until the driver closes the socket or kills it.
class AgentProcess {
 public:
  AgentProcess(const AgentSetup& setup, int socket) : setup_(setup), socket_(socket) {
    log_fd_ = ::open(setup.event_log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  }

  int run() {
    for (;;) {
      Command command;
      const ssize_t n = ::recv(socket_, &command, sizeof command, 0);
      if (n <= 0) return 0;  // the driver is done with us
      Reply reply;
      try {
        reply = execute(command);
      } catch (const Error& e) {
        reply.outcome = Outcome::error;
        reply.error_code = static_cast<std::int32_t>(e.code());
        copy_text(reply.text, e.what());
      } catch (const std::exception& e) {
        reply.outcome = Outcome::error;
        copy_text(reply.text, std::string("std::exception: ") + e.what());
      }
      if (::send(socket_, &reply, sizeof reply, MSG_NOSIGNAL) < 0) return 0;
    }
  }

 private:
  void log(EventKind kind, std::uint64_t seq, std::uint64_t x = 0, std::uint64_t y = 0, std::uint32_t gen = 0) {
    const Event e{kind, gen, seq, x, y};
    if (::write(log_fd_, &e, sizeof e) != static_cast<ssize_t>(sizeof e)) std::_Exit(90);
  }

  // True when the driver sent something (a stop request) while we run free.
  bool stop_requested() {
    pollfd p{socket_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }
  void consume_stop() {
    Command ignored;
    (void)::recv(socket_, &ignored, sizeof ignored, 0);
  }

  OpenOptions open_options(const Command& c) const {
    OpenOptions o;
    o.wait.liveness_interval = std::chrono::milliseconds(c.a == 0 ? 100 : c.a);
    o.wait.spin = std::chrono::nanoseconds(c.b);
    o.wait.return_on_peer_gone = true;
    if ((c.c & 0xF0) != 0) o.fencing = Fencing::full;
    switch (c.c & 0x0F) {
      case 1:
        o.checkpoints = CheckpointPolicy{0, std::chrono::milliseconds(0)};
        break;
      case 2:
        o.checkpoints = CheckpointPolicy{4096, std::chrono::milliseconds(0)};
        break;
      case 3:
        o.checkpoints = CheckpointPolicy{0, std::chrono::milliseconds(2)};
        break;
      default:
        break;  // the policy stored at create
    }
    return o;
  }

  void note_published() {
    if (producer_) log(EventKind::published, producer_->next_sequence());
  }
  void note_durable() {
    if (producer_ && producer_->watermarks().durable_mode) log(EventKind::durable, producer_->watermarks().durable);
  }
  void note_committed(std::uint64_t seq, std::size_t size) {
    log(EventKind::committed, seq, size, 0, setup_.generation);
  }

  Reply sent(const Result<std::uint64_t>& r, std::size_t size, bool published) {
    Reply reply;
    reply.outcome = outcome_of(r.status());
    if (r) {
      note_committed(*r, size);
      reply.a = *r;
    }
    if (published || !r) note_published();  // a refused try_send publishes what was staged
    note_durable();
    reply.b = producer_->next_sequence();
    return reply;
  }

  void deliver(const Message& m) {
    const PayloadCheck check = check_payload(m.bytes, m.sequence);
    log(EventKind::received, m.sequence, check.digest, check.intact ? 1 : 0, check.generation);
  }

  Reply execute(const Command& c) {
    switch (setup_.role) {
      case Role::producer:
        return producer_command(c);
      case Role::consumer:
        return consumer_command(c);
      case Role::admin:
        return admin_command(c);
    }
    return {};
  }

  Reply fork_copy(const Command& c) {
    int hold[2] = {-1, -1};
    int ready[2] = {-1, -1};
    if (c.a == 1 && (::pipe2(hold, O_CLOEXEC) != 0 || ::pipe2(ready, O_CLOEXEC) != 0))
      throw std::runtime_error("pipe2");
    const pid_t child = ::fork();
    if (child < 0) throw std::runtime_error("fork");
    if (child == 0) {
      ::close(socket_);
      if (c.a == 1) {
        // fork()'s child handlers have run: the copy no longer holds the role. Until then it
        // did (the descriptor is shared at the instant of the fork), so the parent waits for this.
        char byte = 0;
        ::close(hold[1]);
        ::close(ready[0]);
        (void)::write(ready[1], &byte, 1);
        (void)::read(hold[0], &byte, 1);  // blocks until this agent dies or the driver kills us
        std::_Exit(0);
      }
      producer_.reset();  // a fork's copy: must change nothing in the shared state
      consumer_.reset();
      std::_Exit(0);
    }
    Reply reply;
    reply.a = static_cast<std::uint64_t>(child);
    if (c.a == 1) {
      ::close(hold[0]);
      ::close(ready[1]);
      char byte = 0;
      (void)::read(ready[0], &byte, 1);
      ::close(ready[0]);
      held_pipes_.push_back(hold[1]);
    } else {
      int status = 0;
      ::waitpid(child, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        reply.outcome = Outcome::error;
        copy_text(reply.text, "the forked copy did not exit cleanly (status " + std::to_string(status) + ")");
      }
    }
    return reply;
  }

  Reply producer_command(const Command& c) {
    Reply reply;
    if (c.op == Op::open) {
      producer_.emplace(Producer::open(setup_.queue, open_options(c)));
      const RecoveryReport& r = producer_->recovery_report();
      log(EventKind::producer_opened, producer_->next_sequence(), r.ran ? 1 : 0, r.read_sequence);
      note_durable();
      reply.a = producer_->next_sequence();
      reply.b = r.ran ? 1 : 0;
      copy_text(reply.text, r.stopped_because);
      return reply;
    }
    if (!producer_) {
      reply.outcome = Outcome::not_applicable;
      return reply;
    }
    Producer& p = *producer_;
    const std::size_t max = p.max_message_size();
    auto clamp = [&](std::uint64_t size) { return static_cast<std::size_t>(std::min<std::uint64_t>(size, max)); };
    switch (c.op) {
      case Op::close:
        producer_.reset();
        return reply;
      case Op::fork_copy:
        return fork_copy(c);
      case Op::try_send: {
        const std::size_t size = clamp(c.a);
        const bool later = c.b == 1;
        return sent(
            p.try_send(make_payload(size, p.next_sequence(), setup_.generation), later ? Publish::later : Publish::now),
            size, !later);
      }
      case Op::send: {
        const std::size_t size = clamp(c.a);
        return sent(p.send(make_payload(size, p.next_sequence(), setup_.generation)), size, true);
      }
      case Op::send_for: {
        const std::size_t size = clamp(c.a);
        const auto start = Clock::now();
        Reply r =
            sent(p.send_for(make_payload(size, p.next_sequence(), setup_.generation), std::chrono::milliseconds(c.b)),
                 size, true);
        r.elapsed_ns = since(start);
        return r;
      }
      case Op::send_batch: {
        std::vector<std::vector<std::byte>> payloads;
        std::vector<std::span<const std::byte>> views;
        const std::uint64_t first = p.next_sequence();
        for (std::uint32_t i = 0; i < c.count && i < kMaxBatch; ++i)
          payloads.push_back(make_payload(clamp(c.sizes[i]), first + i, setup_.generation));
        for (const auto& b : payloads) views.emplace_back(b);
        const Result<std::uint64_t> r = p.send_batch(views);
        for (std::uint64_t s = first; s < p.next_sequence(); ++s) note_committed(s, payloads[s - first].size());
        note_published();
        note_durable();
        reply.outcome = outcome_of(r.status());
        reply.a = first;
        reply.b = p.next_sequence();
        return reply;
      }
      case Op::reserve_commit:
      case Op::reserve_abandon: {
        const std::size_t size = clamp(c.a);
        Result<Reservation> r = p.try_reserve(size);
        reply.outcome = outcome_of(r.status());
        if (!r) {
          note_published();  // refused: what was staged is published
          return reply;
        }
        if (c.op == Op::reserve_abandon) {
          r->abandon();
          return reply;
        }
        const std::size_t used = std::min<std::size_t>(c.b, size);
        fill_payload(r->bytes().first(used), r->sequence(), setup_.generation);
        const bool later = c.c == 1;
        const std::uint64_t seq = r->commit(used, later ? Publish::later : Publish::now);
        note_committed(seq, used);
        if (!later) note_published();
        note_durable();
        reply.a = seq;
        return reply;
      }
      case Op::publish:
        p.publish();
        note_published();
        note_durable();
        return reply;
      case Op::sync: {
        const std::uint64_t durable = p.sync();
        note_published();
        log(EventKind::durable, durable);
        reply.a = durable;
        return reply;
      }
      case Op::wait_durable: {
        if (p.next_sequence() == 0) {
          reply.outcome = Outcome::not_applicable;
          return reply;
        }
        const std::uint64_t seq = p.next_sequence() - 1;
        if (seq < first_sequence_) {  // not sent by this producer: wait_durable may refuse it
          reply.outcome = Outcome::not_applicable;
          return reply;
        }
        p.wait_durable(seq);
        note_published();
        log(EventKind::durable, seq + 1);
        reply.a = seq + 1;
        return reply;
      }
      case Op::stage_and_die: {
        const std::uint64_t first = p.next_sequence();
        for (std::uint32_t i = 0; i < c.count; ++i) {
          const std::size_t size = clamp(c.sizes[i]);
          const Result<std::uint64_t> r =
              p.try_send(make_payload(size, p.next_sequence(), setup_.generation), Publish::later);
          if (!r) {  // full: the staged messages were published, nothing is left staged
            note_published();
            reply.outcome = Outcome::not_applicable;
            return reply;
          }
          note_committed(*r, size);
        }
        log(EventKind::staged_dying, first, c.count, 0, setup_.generation);
        ::kill(::getpid(), SIGKILL);  // killed with the batch staged, never published
        return reply;
      }
      case Op::stream: {
        const bool quiet = c.b == 1;
        std::uint64_t sent_count = 0;
        bool sent_any = false;  // a send_for publishes what is staged, whether it sends or waits
        while (!stop_requested()) {
          sent_any = true;
          const std::uint64_t seq = p.next_sequence();
          const std::size_t size = quiet ? 1 + seq % 8 : clamp(1 + seq % 48);
          const Result<std::uint64_t> r =
              p.send_for(make_payload(size, seq, setup_.generation), std::chrono::milliseconds(50));
          if (r) {
            ++sent_count;
            if (!quiet) {
              note_committed(*r, size);
              note_published();
            }
          }
        }
        consume_stop();
        if (sent_any) note_published();  // stopped before its first send: what was staged still is
        note_durable();
        reply.a = sent_count;
        return reply;
      }
      default:
        reply.outcome = Outcome::not_applicable;
        return reply;
    }
  }

  Reply consumer_command(const Command& c) {
    Reply reply;
    if (c.op == Op::open) {
      consumer_.emplace(Consumer::open(setup_.queue, open_options(c)));
      const RecoveryReport& r = consumer_->recovery_report();
      log(EventKind::consumer_opened, consumer_->next_sequence(), r.ran ? 1 : 0, r.next_sequence);
      reply.a = consumer_->next_sequence();
      reply.b = r.ran ? 1 : 0;
      reply.c = r.next_sequence;
      copy_text(reply.text, r.stopped_because);
      return reply;
    }
    if (!consumer_) {
      reply.outcome = Outcome::not_applicable;
      return reply;
    }
    Consumer& k = *consumer_;
    switch (c.op) {
      case Op::close:
        consumer_.reset();
        return reply;
      case Op::fork_copy:
        return fork_copy(c);
      case Op::try_receive: {
        std::uint64_t n = 0;
        for (; n < c.a; ++n) {
          Result<Message> m = k.try_receive();
          if (!m) {
            reply.outcome = outcome_of(m.status());
            break;
          }
          deliver(*m);
        }
        reply.a = n;
        return reply;
      }
      case Op::receive_for:
      case Op::receive: {
        const auto start = Clock::now();
        Result<Message> m = c.op == Op::receive ? k.receive() : k.receive_for(std::chrono::milliseconds(c.a));
        reply.elapsed_ns = since(start);
        reply.outcome = outcome_of(m.status());
        if (m) deliver(*m);
        return reply;
      }
      case Op::release:
        k.release();
        log(EventKind::released, k.next_sequence());
        return reply;
      case Op::poll: {
        reply.a = k.poll([&](const Message& m) { deliver(m); }, c.a);
        if (reply.a > 0) log(EventKind::released, k.next_sequence());
        return reply;
      }
      case Op::follow: {
        const bool quiet = c.b == 1;
        const std::uint64_t every = c.a == 0 ? 1 : c.a;
        std::uint64_t expected = k.next_sequence();
        std::uint64_t messages = 0;
        std::uint64_t first_bad = 0;
        std::uint64_t unreleased = 0;
        // What an earlier try_receive holds is released first: a consumer that waits while it
        // holds messages can block the producer for good (consumer.hpp).
        k.release();
        if (!quiet) log(EventKind::released, k.next_sequence());
        while (!stop_requested()) {
          Result<Message> m = k.receive_for(std::chrono::milliseconds(20));
          if (!m) {
            if (unreleased > 0) {
              k.release();
              unreleased = 0;
              if (!quiet) log(EventKind::released, k.next_sequence());
            }
            if (m.status() == Status::peer_gone) {
              pollfd p{socket_, POLLIN, 20};  // nothing to read until a producer comes: wait for the driver
              (void)::poll(&p, 1, 20);
            }
            continue;
          }
          ++messages;
          if (quiet) {
            const PayloadCheck check = check_payload(m->bytes, m->sequence);
            if (first_bad == 0 && (m->sequence != expected || !check.intact)) first_bad = m->sequence + 1;
            if (first_bad == 0 && m->sequence != expected) first_bad = expected + 1;
            expected = m->sequence + 1;
          } else {
            deliver(*m);
          }
          if (++unreleased >= every) {
            k.release();
            unreleased = 0;
            if (!quiet) log(EventKind::released, k.next_sequence());
          }
        }
        consume_stop();
        k.release();
        log(EventKind::released, k.next_sequence());
        log(EventKind::follow_summary, k.next_sequence(), messages, first_bad);
        reply.a = messages;
        reply.b = first_bad;
        return reply;
      }
      default:
        reply.outcome = Outcome::not_applicable;
        return reply;
    }
  }

  Reply admin_command(const Command& c) {
    Reply reply;
    switch (c.op) {
      case Op::repair: {
        const RecoveryReport r = repair_queue(setup_.queue);
        reply.a = r.next_sequence;
        reply.b = r.read_sequence;
        reply.c = r.recovered_messages;
        copy_text(reply.text, r.stopped_because);
        return reply;
      }
      case Op::create_on_full_disk: {
        const std::filesystem::path path = c.text;
        CreateOptions o;
        o.capacity = 64 * 1024;
        try {
          create_queue(path, o);
          reply.outcome = Outcome::ok;  // the driver reports this: the full disk went unnoticed
        } catch (const Error& e) {
          reply.outcome = Outcome::error;
          reply.error_code = static_cast<std::int32_t>(e.code());
          copy_text(reply.text, e.what());
        }
        reply.a = std::filesystem::exists(std::filesystem::symlink_status(path)) ? 1 : 0;
        return reply;
      }
      default:
        reply.outcome = Outcome::not_applicable;
        return reply;
    }
  }

  const AgentSetup& setup_;
  int socket_;
  int log_fd_ = -1;
  std::optional<Producer> producer_;
  std::optional<Consumer> consumer_;
  std::uint64_t first_sequence_ = 0;
  std::vector<int> held_pipes_;
};

}  // namespace

Agent::Agent(const AgentSetup& setup) : setup_(setup) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    ::close(fds[0]);
    if (!setup_.failpoint.empty())
      ::setenv("SHMQ_FAILPOINT", setup_.failpoint.c_str(), 1);
    else
      ::unsetenv("SHMQ_FAILPOINT");
    shmq::logger()->set_level(spdlog::level::off);  // the run's history says what happened
    std::optional<AgentDisk> disk;
    if (!setup_.disk_log.empty()) disk.emplace(setup_.queue, setup_.disk_log, setup_.boot, setup_.faults);
    int rc = 0;
    {
      AgentProcess process(setup_, fds[1]);
      rc = process.run();
    }
    std::_Exit(rc);
  }
  ::close(fds[1]);
  socket_ = fds[0];
}

Agent::~Agent() {
  if (alive()) kill();
  if (socket_ >= 0) ::close(socket_);
}

void Agent::kill() {
  if (pid_ <= 0) return;
  killed_by_driver_ = true;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  stopped_ = false;
}

void Agent::pause() {
  if (pid_ > 0 && !stopped_ && ::kill(pid_, SIGSTOP) == 0) {
    // Wait until it is stopped: the driver's next step must see a stopped process.
    int status = 0;
    if (::waitpid(pid_, &status, WUNTRACED) == pid_ && !WIFSTOPPED(status)) {
      status_ = status;
      pid_ = -1;
      return;
    }
    stopped_ = true;
    ++tally().stops;
  }
}

void Agent::resume() {
  if (pid_ > 0 && stopped_) {
    ::kill(pid_, SIGCONT);
    stopped_ = false;
  }
}

bool Agent::reap_if_dead() {
  if (pid_ <= 0) return true;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_ && !WIFSTOPPED(status) && !WIFCONTINUED(status)) {
    status_ = status;
    pid_ = -1;
    stopped_ = false;
    return true;
  }
  return false;
}

void Agent::start(const Command& command) {
  if (::send(socket_, &command, sizeof command, MSG_NOSIGNAL) < 0) reap_if_dead();
}

std::optional<Reply> Agent::call(const Command& command, std::chrono::milliseconds patience) {
  if (!alive()) return std::nullopt;
  if (::send(socket_, &command, sizeof command, MSG_NOSIGNAL) < 0) {
    // Dead already: reap it.
    for (int i = 0; i < 1000 && !reap_if_dead(); ++i) ::usleep(1000);
    if (alive()) kill();
    return std::nullopt;
  }
  return wait_reply(patience);
}

std::optional<Reply> Agent::stop_and_wait(std::chrono::milliseconds patience) {
  if (!alive()) return std::nullopt;
  Command stop;
  stop.op = Op::close;
  (void)::send(socket_, &stop, sizeof stop, MSG_NOSIGNAL);
  return wait_reply(patience);
}

std::optional<Reply> Agent::wait_reply(std::chrono::milliseconds patience) {
  const auto deadline = Clock::now() + patience;
  for (;;) {
    pollfd p{socket_, POLLIN, 0};
    const int ready = ::poll(&p, 1, 50);
    if (ready > 0 && (p.revents & POLLIN) != 0) {
      Reply reply;
      const ssize_t n = ::recv(socket_, &reply, sizeof reply, MSG_DONTWAIT);
      if (n == static_cast<ssize_t>(sizeof reply)) return reply;
    }
    // A dead agent's socket may stay open in a forked copy that is still alive: ask the kernel.
    if (reap_if_dead()) return std::nullopt;
    if ((ready > 0 && (p.revents & (POLLHUP | POLLERR)) != 0)) {
      // The agent closed its end: it is exiting; reap it.
      for (int i = 0; i < 5000 && !reap_if_dead(); ++i) ::usleep(1000);
      if (alive()) kill();
      return std::nullopt;
    }
    if (Clock::now() > deadline) {
      throw HangDetected{std::string(to_string(setup_.role)) + " agent (pid " + std::to_string(pid_) +
                         ") did not answer within " + std::to_string(patience.count()) + " ms"};
    }
  }
}

std::vector<Event> read_events(const std::filesystem::path& log, std::uint64_t& offset) {
  std::vector<Event> events;
  const int fd = ::open(log.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return events;
  Event e;
  while (::pread(fd, &e, sizeof e, static_cast<off_t>(offset)) == static_cast<ssize_t>(sizeof e)) {
    events.push_back(e);
    offset += sizeof e;
  }
  ::close(fd);
  return events;
}

void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace shmq::torture
