#include "scenarios.hpp"

#include <csignal>
#include <thread>

#include "programs.hpp"
#include "shmq/shmq.hpp"

namespace shmq::torture {
namespace {

using std::chrono::milliseconds;
std::string n(std::uint64_t v) { return std::to_string(v); }

// A message size: mostly small, sometimes large, sometimes over half the ring (padding) or the
// largest the queue takes.
std::uint64_t random_size(Rng& rng, std::uint64_t capacity) {
  const std::uint64_t max = shmq::max_message_size(capacity);
  switch (rng.weighted({30, 30, 20, 10, 6, 4})) {
    case 0:
      return rng.below(16);
    case 1:
      return rng.between(16, 256);
    case 2:
      return rng.between(256, std::min<std::uint64_t>(4096, max));
    case 3:
      return rng.between(16, max / 2);
    case 4:
      return rng.between(max / 2, max);
    default:
      return max;
  }
}

const char* const kProducerFailpoints[] = {"publish.before_store", "publish.after_store", "commit.after_header",
                                           "wake.before_futex", "park.before_membarrier"};
const char* const kDurableFailpoints[] = {"checkpoint.after_ring_sync", "checkpoint.after_slot_write",
                                          "checkpoint.after_slot_sync", "reconfirm.after_ring_sync"};
const char* const kConsumerFailpoints[] = {"release.before_store", "release.after_store", "wake.before_futex",
                                           "park.before_membarrier"};
const char* const kRecoveryFailpoints[] = {"recovery.after_clear", "recovery.after_positions",
                                           "recovery.after_slot_write", "recovery.after_slot_sync"};

template <std::size_t N>
std::string pick(Rng& rng, const char* const (&names)[N]) {
  return names[rng.below(N)];
}

Run::Faults producer_faults(Run& run) {
  Run::Faults f;
  Rng& r = run.ops();
  if (r.percent(35) && run.failpoints()) {
    const bool durable_point = run.durable() && r.percent(40);
    f.failpoint =
        (durable_point ? pick(r, kDurableFailpoints) : pick(r, kProducerFailpoints)) + ":" + n(r.between(1, 30));
  }
  if (run.durable() && r.percent(6)) f.disk.fail_msync_at = r.between(1, 12);
  if (run.durable() && r.percent(4)) f.disk.cut_at_msync = r.between(1, 12);
  return f;
}

Run::Faults consumer_faults(Run& run) {
  Run::Faults f;
  Rng& r = run.ops();
  if (r.percent(25) && run.failpoints()) f.failpoint = pick(r, kConsumerFailpoints) + ":" + n(r.between(1, 20));
  return f;
}

// The agent reported an error. Allowed only where the test injected it.
void check_error(Run& run, const Reply& r, bool eio_injected, const char* what) {
  if (r.outcome != Outcome::error) return;
  if (eio_injected && r.error_code == static_cast<int>(ErrorCode::io)) {
    run.history().note(std::string(what) + ": the injected EIO: " + r.text);
    return;
  }
  fail("no error on an undamaged queue", std::string(what) + ": " + r.text);
}

void check_wait(const Reply& r, std::uint64_t timeout_ms, std::uint64_t liveness_ms, const char* what) {
  const auto bound = milliseconds(timeout_ms + liveness_ms) + kWaitSlack;
  if (std::chrono::nanoseconds(r.elapsed_ns) > bound) {
    fail("no wait outlasts its deadline",
         std::string(what) + " took " + n(static_cast<std::uint64_t>(r.elapsed_ns / 1000000)) + " ms; its deadline " +
             n(timeout_ms) + " ms + liveness " + n(liveness_ms) + " ms + slack " +
             n(static_cast<std::uint64_t>(kWaitSlack.count())) + " ms");
  }
}

class Mixed {
 public:
  explicit Mixed(Run& run) : run_(run), rng_(run.ops()) {}

  void operator()() {
    run_.create(run_.random_queue_options(rng_.percent(45)));
    capacity_ = run_.queue_options().capacity;
    open_producer(false);
    open_consumer(false);
    for (std::uint64_t k = 1; k <= run_.steps(); ++k) {
      run_.step(k);
      one_step();
      run_.absorb();
      run_.observe_disk();
    }
    // The end: everything published is delivered, then the tools agree the queue is sound.
    stop_following();
    if (auto& p = run_.producer(); p && p->stopped()) p->resume();
    if (auto& c = run_.consumer(); c && c->stopped()) c->resume();
    if (!run_.consumer_up()) open_consumer(false);
    if (run_.consumer_up()) {
      Command poll;
      poll.op = Op::poll;
      poll.a = ~std::uint64_t{0};
      run_.call(run_.consumer(), poll);
    }
    run_.absorb();
    if (run_.consumer_up() && run_.checker().received() < run_.checker().published())
      fail("no gap", "the consumer drained the queue at " + n(run_.checker().received()) + " but " +
                         n(run_.checker().published()) + " were published");
    run_.run_tool("verify");
  }

 private:
  void open_producer(bool faults) {
    eio_ = false;
    Run::Faults f = faults ? producer_faults(run_) : Run::Faults{};
    eio_ = f.disk.fail_msync_at != 0;
    run_.open_producer(f);
  }
  void open_consumer(bool faults) { run_.open_consumer(faults ? consumer_faults(run_) : Run::Faults{}); }

  bool producer_ready() { return run_.producer_up() && !run_.producer()->stopped(); }
  bool consumer_ready() { return run_.consumer_up() && !run_.consumer()->stopped() && !following_; }

  std::optional<Reply> produce(const Command& c, const char* what) {
    std::optional<Reply> r = run_.call(run_.producer(), c);
    if (r) {
      check_error(run_, *r, eio_, what);
      if (r->outcome == Outcome::error) run_.kill(run_.producer());
    }
    return r;
  }
  std::optional<Reply> consume(const Command& c, const char* what) {
    std::optional<Reply> r = run_.call(run_.consumer(), c);
    if (r) check_error(run_, *r, false, what);
    return r;
  }

  void stop_following() {
    if (!following_) return;
    following_ = false;
    if (!run_.consumer_up()) return;
    if (run_.consumer()->stopped()) run_.consumer()->resume();
    std::optional<Reply> r;
    try {
      r = run_.consumer()->stop_and_wait(kHangDetector);
    } catch (const HangDetected& h) {
      fail("no wait outlasts its deadline", h.what);
    }
    run_.absorb();
    if (!r && run_.consumer()) run_.after_death(run_.consumer());
    run_.history().note("the consumer stops following");
  }

  void one_step() {
    if (!run_.producer_up() && rng_.percent(50)) return open_producer(true);
    if (!run_.consumer_up() && rng_.percent(50)) {
      following_ = false;
      return open_consumer(true);
    }
    const bool durable = run_.durable();
    const bool can_block = following_ && run_.consumer_up() && !run_.consumer()->stopped();
    Command c;
    switch (rng_.weighted({14,
                           6,
                           4,
                           6,
                           2,
                           4,
                           can_block ? 5u : 0u,
                           durable ? 5u : 0u,
                           durable ? 3u : 1u,
                           3,
                           8,
                           5,
                           8,
                           3,
                           3,
                           3,
                           2,
                           2,
                           2,
                           2,
                           1,
                           4,
                           1,
                           durable ? 2u : 0u,
                           1,
                           1})) {
      case 0:
      case 1:
        if (!producer_ready()) return;
        c.op = Op::try_send;
        c.a = random_size(rng_, capacity_);
        c.b = rng_.percent(30) ? 1 : 0;
        produce(c, "try_send");
        return;
      case 2:
        if (!producer_ready()) return;
        c.op = Op::publish;
        produce(c, "publish");
        return;
      case 3:
      case 4:
        if (!producer_ready()) return;
        c.op = rng_.percent(80) ? Op::reserve_commit : Op::reserve_abandon;
        c.a = random_size(rng_, capacity_);
        c.b = rng_.below(c.a + 1);
        c.c = rng_.percent(30) ? 1 : 0;
        produce(c, "reserve");
        return;
      case 5: {
        if (!producer_ready()) return;
        c.op = Op::send_for;
        c.a = random_size(rng_, capacity_);
        c.b = rng_.between(1, 30);
        if (const auto r = produce(c, "send_for"); r && r->outcome != Outcome::error)
          check_wait(*r, c.b, 100 + checkpoint_slack(), "send_for");
        return;
      }
      case 6: {
        if (!producer_ready()) return;
        c.op = rng_.percent(50) ? Op::send_batch : Op::send;
        c.count = static_cast<std::uint32_t>(rng_.between(1, 12));
        for (std::uint32_t i = 0; i < c.count; ++i)
          c.sizes[i] = static_cast<std::uint32_t>(random_size(rng_, capacity_));
        c.a = c.sizes[0];
        produce(c, c.op == Op::send ? "send" : "send_batch");
        return;
      }
      case 7:
        if (!producer_ready()) return;
        c.op = rng_.percent(60) ? Op::sync : Op::wait_durable;
        produce(c, "sync");
        return;
      case 8: {
        if (!producer_ready()) return;
        c.op = Op::stage_and_die;
        c.count = static_cast<std::uint32_t>(rng_.between(1, 6));
        for (std::uint32_t i = 0; i < c.count; ++i)
          c.sizes[i] = static_cast<std::uint32_t>(rng_.between(16, capacity_ / 8));
        produce(c, "stage_and_die");
        if (run_.producer() && !run_.producer()->alive()) run_.after_death(run_.producer());
        return;
      }
      case 9: {
        if (!producer_ready()) return;
        c.op = Op::stream;
        run_.producer()->start(c);
        run_.history().note("the producer streams");
        std::this_thread::sleep_for(std::chrono::microseconds(run_.chaos().below(3000)));  // a random instant
        if (rng_.percent(60)) {
          run_.kill(run_.producer());
        } else {
          std::optional<Reply> r;
          try {
            r = run_.producer()->stop_and_wait(kHangDetector);
          } catch (const HangDetected& h) {
            fail("no wait outlasts its deadline", h.what);
          }
          if (!r) run_.after_death(run_.producer());
        }
        return;
      }
      case 10:
        if (!consumer_ready()) return;
        c.op = Op::try_receive;
        c.a = rng_.between(1, 20);
        consume(c, "try_receive");
        return;
      case 11:
        if (!consumer_ready()) return;
        c.op = Op::release;
        consume(c, "release");
        return;
      case 12:
        if (!consumer_ready()) return;
        c.op = Op::poll;
        c.a = rng_.between(1, 64);
        consume(c, "poll");
        return;
      case 13: {
        if (!consumer_ready()) return;
        const bool producer_dead = !run_.producer_up();
        c.op = producer_dead && rng_.percent(50) ? Op::receive : Op::receive_for;
        c.a = rng_.between(1, 40);
        if (const auto r = consume(c, "receive"); r && r->outcome != Outcome::error)
          check_wait(*r, c.op == Op::receive ? 0 : c.a, 100,
                     c.op == Op::receive ? "receive (producer dead)" : "receive_for");
        return;
      }
      case 14:
        if (following_) return stop_following();
        if (!consumer_ready()) return;
        c.op = Op::follow;
        c.a = rng_.between(1, 16);
        run_.consumer()->start(c);
        following_ = true;
        run_.history().note("the consumer follows, releasing every " + n(c.a));
        return;
      case 15:
        if (run_.producer_up()) run_.kill(run_.producer());
        return;
      case 16:
        following_ = false;
        if (run_.consumer_up()) run_.kill(run_.consumer());
        return;
      case 17:
        if (producer_ready()) run_.close(run_.producer());
        return;
      case 18:
        if (consumer_ready()) run_.close(run_.consumer());
        return;
      case 19:
        toggle_stop(run_.producer(), "producer");
        return;
      case 20:
        if (!following_) toggle_stop(run_.consumer(), "consumer");
        return;
      case 21: {
        static const char* const kTools[] = {"stat", "verify", "dump", "watch"};
        run_.run_tool(kTools[rng_.below(4)]);
        return;
      }
      case 22:
        following_ = false;
        run_.repair();
        return;
      case 23:
        following_ = false;
        run_.power_loss();
        return;
      case 24: {
        std::unique_ptr<Agent>& a = rng_.percent(50) ? run_.producer() : run_.consumer();
        if (!a || !a->alive() || a->stopped() || (following_ && a == run_.consumer())) return;
        c.op = Op::fork_copy;
        c.a = rng_.percent(50) ? 1 : 0;
        const std::optional<Reply> r = run_.call(a, c);
        if (r && r->outcome != Outcome::ok) fail("a fork's copy changes nothing", r->text);
        if (r && c.a == 1) {
          run_.keep_fork_copy(static_cast<pid_t>(r->a));
          run_.history().note("a forked copy of the " + std::string(to_string(a->setup().role)) + " stays alive");
        }
        return;
      }
      default:
        full_disk();
        return;
    }
  }

  std::uint64_t checkpoint_slack() const { return 0; }

  void toggle_stop(std::unique_ptr<Agent>& a, const char* who) {
    if (!a || !a->alive()) return;
    if (a->stopped()) {
      a->resume();
      run_.history().note(std::string("SIGCONT ") + who);
    } else {
      a->pause();
      run_.history().note(std::string("SIGSTOP ") + who);
      if (rng_.percent(50)) run_.run_tool(rng_.percent(50) ? "verify" : "stat");
    }
  }

  void full_disk() {
    AgentSetup s;
    s.role = Role::admin;
    s.queue = run_.queue();
    s.event_log = run_.dir() / "events-admin";
    s.disk_log = run_.dir() / "disk-log-full";
    s.faults.fallocate_enospc = true;
    Agent admin(s);
    Command c;
    c.op = Op::create_on_full_disk;
    const std::string path = (run_.dir() / "full-disk-queue").string();
    std::snprintf(c.text, sizeof c.text, "%s", path.c_str());
    std::optional<Reply> r;
    try {
      r = admin.call(c, kHangDetector);
    } catch (const HangDetected& h) {
      fail("no wait outlasts its deadline", h.what);
    }
    if (!r) fail("agents end only when killed", "the process creating a queue on a full disk died");
    if (r->outcome != Outcome::error || r->error_code != static_cast<int>(ErrorCode::io) || r->a != 0)
      fail("a full disk fails create, leaving nothing",
           std::string("create_queue with ENOSPC: ") + r->text + (r->a ? " (a file was left at the path)" : ""));
    run_.history().note("create on a full disk fails as it should");
  }

  Run& run_;
  Rng& rng_;
  std::uint64_t capacity_ = 0;
  bool following_ = false;
  bool eio_ = false;
};

// kill -9 of a producer in a tight send loop, hundreds of times, while a consumer follows.
void kill_loop(Run& run) {
  Rng& rng = run.ops();
  CreateOptions o = run.random_queue_options(rng.percent(30));
  o.capacity = rng.percent(50) ? 4096 : 65536;
  run.create(o);
  run.open_consumer();
  Command follow;
  follow.op = Op::follow;
  follow.a = rng.between(1, 32);
  follow.b = 1;  // no event per message: keep up with the producer
  run.consumer()->start(follow);
  auto stop_follow = [&] {
    if (!run.consumer_up()) return;  // not reopened after the last stop
    std::optional<Reply> r;
    try {
      r = run.consumer()->stop_and_wait(kHangDetector);
    } catch (const HangDetected& h) {
      fail("no wait outlasts its deadline", h.what);
    }
    run.absorb();
    if (!r) run.after_death(run.consumer());
  };
  for (std::uint64_t k = 1; k <= run.steps(); ++k) {
    run.step(k);
    Run::Faults f;
    if (rng.percent(20) && run.failpoints()) f.failpoint = "publish.after_store:" + n(rng.between(1, 400));
    if (!run.open_producer(f)) continue;
    Command stream;
    stream.op = Op::stream;
    stream.b = 1;
    run.producer()->start(stream);
    std::this_thread::sleep_for(std::chrono::microseconds(run.chaos().below(1500)));  // a random instant
    if (rng.percent(8) && run.producer_up()) {
      run.producer()->pause();  // stopped wherever it was: the tools must still see a sound queue
      run.history().note("SIGSTOP producer");
      run.run_tool(rng.percent(50) ? "verify" : "stat");
      run.producer()->resume();
    }
    run.kill(run.producer());
    if (k % 50 == 0 || rng.percent(2)) {
      stop_follow();
      run.run_tool("verify");
      if (rng.percent(50)) run.open_consumer();
      if (run.consumer_up()) run.consumer()->start(follow);
    }
  }
  if (run.consumer_up()) stop_follow();
  run.run_tool("verify");
}

// Most of the time, checkpoints only when asked: a background checkpoint would make the new
// records durable before the cut, and the state this scenario is after needs them not to be.
Run::Faults explicit_checkpoints(Run& run) {
  Run::Faults f;
  f.checkpoints = run.ops().percent(80) ? 1 : 0;
  return f;
}

// A producer dies with a batch staged; the next one sends messages of the same sizes, which take
// the same positions and sequences; then the power fails.
void staged_power_loss(Run& run) {
  Rng& rng = run.ops();
  CreateOptions o = run.random_queue_options(true);
  o.capacity = rng.percent(50) ? 8192 : 16384;
  o.checksums = true;
  run.create(o);
  for (std::uint64_t k = 1; k <= run.steps(); ++k) {
    run.step(k);
    if (!run.consumer_up() && !run.open_consumer()) continue;
    if (!run.open_producer(explicit_checkpoints(run))) continue;
    Command c;
    const std::uint64_t before = rng.below(6);
    for (std::uint64_t i = 0; i < before && run.producer_up(); ++i) {
      c = Command{};
      c.op = Op::try_send;
      c.a = rng.between(16, 900);
      run.call(run.producer(), c);
    }
    if (rng.percent(50) && run.producer_up()) {
      c = Command{};
      c.op = Op::sync;
      run.call(run.producer(), c);
    }
    if (run.consumer_up()) {
      c = Command{};
      c.op = Op::poll;
      c.a = rng.below(8);
      run.call(run.consumer(), c);
    }
    run.observe_disk();
    Command stage;
    stage.op = Op::stage_and_die;
    stage.count = static_cast<std::uint32_t>(rng.between(2, 8));
    for (std::uint32_t i = 0; i < stage.count; ++i) stage.sizes[i] = static_cast<std::uint32_t>(rng.between(16, 1500));
    if (!run.producer_up()) continue;
    // The agent dies inside the call when it staged the whole batch; it answers (not applicable)
    // when the ring was too full for it, and then there is no staged batch to write over.
    const bool staged = !run.call(run.producer(), stage).has_value();
    if (run.producer()) run.kill(run.producer());
    run.observe_disk();
    if (!run.open_producer(explicit_checkpoints(run))) continue;
    run.observe_disk();
    Command same;
    // A send_batch waits for room as long as it needs it, and the consumer runs only between
    // calls: only a batch that fitted the ring before may be sent as one.
    same.op = staged && rng.percent(50) ? Op::send_batch : Op::try_send;
    if (same.op == Op::send_batch) {
      same.count = stage.count;
      std::copy(stage.sizes, stage.sizes + stage.count, same.sizes);
      if (run.consumer_up()) {  // send_batch may wait for room: the consumer makes it
        c = Command{};
        c.op = Op::poll;
        c.a = ~std::uint64_t{0};
        run.call(run.consumer(), c);
      }
      run.call(run.producer(), same);
    } else {
      for (std::uint32_t i = 0; i < stage.count && run.producer_up(); ++i) {
        same.a = stage.sizes[i];
        run.call(run.producer(), same);
        run.observe_disk();
      }
    }
    run.observe_disk();
    if (rng.percent(30) && run.consumer_up()) {
      c = Command{};
      c.op = Op::poll;
      c.a = rng.below(4);
      run.call(run.consumer(), c);
      run.observe_disk();
    }
    run.power_loss();
    Run::Faults recovering;
    if (rng.percent(20) && run.failpoints()) recovering.failpoint = pick(rng, kRecoveryFailpoints);
    run.open_consumer(recovering);
    if (!run.consumer_up()) run.open_consumer();  // recovery was killed: it runs again
    c = Command{};
    c.op = Op::poll;
    c.a = ~std::uint64_t{0};
    if (run.consumer_up()) run.call(run.consumer(), c);
    run.absorb();
    run.observe_disk();
  }
  run.run_tool("verify");
}

// The sample programs: shmq-producer killed and restarted while shmq-consumer --verify follows.
void samples(Run& run) {
  const std::string producer = sample_producer_path();
  const std::string consumer = sample_consumer_path();
  if (producer.empty() || consumer.empty()) return;
  Rng& rng = run.ops();
  CreateOptions o = run.random_queue_options(rng.percent(30));
  o.initial_position = 0;
  run.create(o);
  const std::uint64_t total = 2000 + rng.below(20000);
  const std::string size =
      std::to_string(rng.between(33, std::min<std::uint64_t>(2000, shmq::max_message_size(o.capacity))));
  Program reader({consumer, "--queue", run.queue().string(), "--verify", "--follow", "-n", std::to_string(total)},
                 run.dir() / "sample-consumer.txt");
  std::uint64_t kills = 0;
  for (std::uint64_t k = 1; k <= std::min<std::uint64_t>(run.steps(), 60); ++k) {
    run.step(k);
    Program writer({producer, "--queue", run.queue().string(), "-n", std::to_string(total), "--size", size},
                   run.dir() / "sample-producer.txt");
    std::this_thread::sleep_for(std::chrono::microseconds(run.chaos().below(5000)));  // a random instant
    if (k == std::min<std::uint64_t>(run.steps(), 60)) {
      const std::optional<ProgramResult> r = writer.wait(kHangDetector);
      if (!r) fail("no wait outlasts its deadline", "shmq-producer did not finish");
      if (r->exit_code != 0)
        fail("every open after any kill succeeds",
             "shmq-producer exited " + n(static_cast<std::uint64_t>(r->exit_code)) + ": " + r->output.substr(0, 600));
      break;
    }
    writer.kill();
    ++kills;
    if (k % 10 == 0) run.run_tool("verify");
  }
  run.history().note("shmq-producer killed " + n(kills) + " times");
  const std::optional<ProgramResult> r = reader.wait(kHangDetector);
  if (!r) fail("no wait outlasts its deadline", "shmq-consumer did not finish");
  if (r->exit_code != 0)
    fail("no gap", "shmq-consumer --verify exited " + n(static_cast<std::uint64_t>(r->exit_code)) + ": " +
                       r->output.substr(0, 600));
  run.run_tool("verify");
}

// A producer killed between its two stores of a publication is restarted and stays idle; only
// then does the consumer read the last record and release it; then the consumer restarts and the
// tools look at the queue.
void restart(Run& run) {
  Rng& rng = run.ops();
  CreateOptions o = run.random_queue_options(rng.percent(50));
  run.create(o);
  run.open_consumer();
  for (std::uint64_t k = 1; k <= run.steps(); ++k) {
    run.step(k);
    Run::Faults f;
    f.failpoint = "publish.after_store:" + n(rng.between(1, 4));
    f.checkpoints = 1;
    if (!run.open_producer(f)) continue;
    for (int i = 0; i < 8 && run.producer_up(); ++i) {
      Command c;
      c.op = Op::try_send;
      c.a = rng.between(0, 200);
      run.call(run.producer(), c);
    }
    if (run.producer_up()) run.kill(run.producer());
    if (!run.open_producer(explicit_checkpoints(run))) continue;  // restarted; it stays idle
    if (!run.consumer_up()) run.open_consumer();
    Command poll;
    poll.op = Op::poll;
    poll.a = ~std::uint64_t{0};
    if (run.consumer_up()) run.call(run.consumer(), poll);
    run.run_tool(rng.percent(50) ? "verify" : "stat");
    run.close(run.consumer());
    run.open_consumer();
  }
}

}  // namespace

const std::vector<std::string>& scenario_names() {
  static const std::vector<std::string> names{"mixed", "kill_loop", "staged_power_loss", "samples", "restart"};
  return names;
}

void run_scenario(const std::string& name, Run& run) {
  if (name == "mixed") return Mixed(run)();
  if (name == "kill_loop") return kill_loop(run);
  if (name == "staged_power_loss") return staged_power_loss(run);
  if (name == "samples") return samples(run);
  if (name == "restart") return restart(run);
  throw std::invalid_argument("no scenario " + name);
}

}  // namespace shmq::torture
