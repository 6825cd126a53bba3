#include "run.hpp"

#include "layout.hpp"
#include "tally.hpp"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "programs.hpp"
#include "shmq/shmq.hpp"

namespace shmq::torture {
namespace {

std::string n(std::uint64_t v) { return std::to_string(v); }

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit code " + n(static_cast<std::uint64_t>(WEXITSTATUS(status)));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + n(static_cast<std::uint64_t>(status));
}

// The processes that have the queue file open (for a role_taken nobody should cause).
std::string holders_of(const std::filesystem::path& file) {
  std::string out;
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = proc.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fd_ec;
    for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fd", fd_ec)) {
      std::error_code link_ec;
      if (std::filesystem::read_symlink(fd.path(), link_ec) == file) {
        out += " pid " + pid + " fd " + fd.path().filename().string();
      }
    }
  }
  return out.empty() ? " none" : out;
}

}  // namespace

Run::Run(const RunOptions& options, const std::string& scenario)
    : options_(options),
      history_(options.verbose),
      checker_(history_),
      ops_(options.seed),
      chaos_(options.seed ^ 0xC4A05C4A05ULL),
      disk_rng_(options.seed ^ 0xD15CD15CULL) {
  // A forked copy of a role holder outlives its agent: it becomes our child, so we can reap it.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  shmq::logger()->set_level(spdlog::level::warn);  // the history says what happened
  dir_ = options.dir /
         ("shmq-torture-" + scenario + "-" + n(options.seed) + "-" + n(static_cast<std::uint64_t>(::getpid())));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  queue_ = dir_ / "queue";
}

Run::~Run() {
  producer_.reset();
  consumer_.reset();
  kill_fork_copies();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

CreateOptions Run::random_queue_options(bool durable) {
  CreateOptions o;
  static constexpr std::uint64_t kCapacities[] = {4096, 8192, 16384, 65536, 1 << 20};
  o.capacity = kCapacities[ops_.weighted({3, 3, 3, 2, 1})];
  o.durable = durable;
  o.checksums = durable ? ops_.percent(85) : ops_.percent(50);
  if (ops_.percent(40)) {  // close to the end of the 64-bit positions: the run wraps them
    o.initial_position = (~std::uint64_t{0} - ops_.below(8) * o.capacity - ops_.below(o.capacity)) & ~std::uint64_t{7};
  }
  const std::size_t policy = ops_.weighted({2, 1, 1});
  if (policy == 0) o.checkpoints = {0, std::chrono::milliseconds(0)};
  if (policy == 1) o.checkpoints = {o.capacity / 4, std::chrono::milliseconds(0)};
  if (policy == 2) o.checkpoints = {0, std::chrono::milliseconds(5)};
  return o;
}

void Run::create(const CreateOptions& options) {
  queue_options_ = options;
  create_queue(queue_, options);
  history_.note("created " + queue_.string() + ": capacity " + n(options.capacity) +
                (options.durable ? ", durable" : ", plain") +
                (options.checksums.value_or(options.durable) ? ", checksums" : ", no checksums") +
                ", initial position " + n(options.initial_position));
  if (options.durable) disk_ = std::make_unique<DiskModel>(queue_, dir_ / "disk-log");
}

std::unique_ptr<Agent> Run::start_agent(Role role, const Faults& faults) {
  AgentSetup s;
  s.role = role;
  s.queue = queue_;
  s.generation = ++generation_;
  s.event_log = dir_ / ("events-" + n(s.generation));
  if (disk_) s.disk_log = dir_ / "disk-log";
  s.boot = boot_;
  s.faults = faults.disk;
  s.failpoint = faults.failpoint;
  if (!s.failpoint.empty()) ++tally().failpoints_armed;
  return std::make_unique<Agent>(s);
}

Command Run::open_command() {
  Command c;
  c.op = Op::open;
  c.a = ops_.weighted({1, 1, 1}) == 0 ? 10 : ops_.percent(50) ? 30 : 100;  // liveness interval, ms
  c.b = ops_.percent(50) ? 0 : ops_.percent(50) ? 2000 : 50000;            // spin, ns
  c.c = ops_.below(4) | (ops_.percent(30) ? 0x10 : 0);                     // checkpoint policy, fencing
  return c;
}

namespace {

// One 8-byte word of the queue file, read with pread (as a tool would, without the mapping).
std::uint64_t file_word(const std::filesystem::path& queue, std::size_t offset) {
  std::uint64_t word = 0;
  const int fd = ::open(queue.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (::pread(fd, &word, sizeof word, static_cast<off_t>(offset)) != static_cast<ssize_t>(sizeof word)) word = 0;
    ::close(fd);
  }
  return word;
}

}  // namespace

bool Run::open_producer(const Faults& faults) {
  if (producer_up()) kill(producer_);
  producer_ = start_agent(Role::producer, faults);
  Command c = open_command();
  if (faults.checkpoints >= 0) c.c = static_cast<std::uint64_t>(faults.checkpoints);
  history_.note("producer gen " + n(generation_) + " opens" +
                (faults.failpoint.empty() ? "" : " with failpoint " + faults.failpoint) +
                (faults.disk.fail_msync_at ? " (msync " + n(faults.disk.fail_msync_at) + " fails with EIO)" : "") +
                (faults.disk.cut_at_msync ? " (power fails in msync " + n(faults.disk.cut_at_msync) + ")" : ""));
  const std::optional<Reply> r = call(producer_, c);
  if (!r) return false;
  if (r->outcome == Outcome::error) {
    const bool injected = faults.disk.fail_msync_at != 0 && r->error_code == static_cast<int>(ErrorCode::io);
    if (!injected) {
      fail("every open after any kill succeeds",
           std::string("Producer::open: ") + r->text + "; processes with the file open:" + holders_of(queue_));
    }
    history_.note(std::string("producer open failed as injected: ") + r->text);
    kill(producer_);
    return false;
  }
  history_.note("producer open: next sequence " + n(r->a) + (r->b ? ", recovered" : ""));
  awaiting_recovery_ = false;
  // The file's write position and sequence follow a producer from its open, not from its first
  // publication: the tools, a restarting consumer and recovery read them.
  const std::uint64_t word =
      file_word(queue_, offsetof(layout::Header, producer) + offsetof(layout::RoleLine, sequence));
  if (word != r->a) {
    fail("the file's positions follow the producer",
         "a producer opened at sequence " + n(r->a) + " and the file's sequence word says " + n(word));
  }
  return true;
}

bool Run::open_consumer(const Faults& faults) {
  if (consumer_up()) kill(consumer_);
  consumer_ = start_agent(Role::consumer, faults);
  history_.note("consumer opens" + (faults.failpoint.empty() ? "" : " with failpoint " + faults.failpoint) +
                (faults.disk.cut_at_msync ? " (power fails in msync " + n(faults.disk.cut_at_msync) + ")" : ""));
  const std::optional<Reply> r = call(consumer_, open_command());
  if (!r) return false;
  if (r->outcome == Outcome::error) {
    fail("every open after any kill succeeds",
         std::string("Consumer::open: ") + r->text + "; processes with the file open:" + holders_of(queue_));
  }
  history_.note("consumer open: next sequence " + n(r->a) + (r->b ? ", recovered" : ""));
  awaiting_recovery_ = false;
  return true;
}

std::vector<Event> Run::events_of(Agent& agent) {
  return read_events(agent.setup().event_log, log_offsets_[agent.setup().generation]);
}

void Run::absorb() {
  for (std::unique_ptr<Agent>* a : {&producer_, &consumer_}) {
    if (!*a) continue;
    const std::vector<Event> events = events_of(**a);
    if ((*a)->setup().role == Role::producer) checker_.producer_events(events);
    if ((*a)->setup().role == Role::consumer) checker_.consumer_events(events);
    if ((*a)->alive() && !(*a)->stopped() && (*a)->reap_if_dead()) after_death(*a);
  }
}

void Run::after_death(std::unique_ptr<Agent>& agent) {
  const int status = agent->exit_status();
  const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (killed && !agent->killed_by_driver()) ++tally().self_kills;
  const std::vector<Event> events = events_of(*agent);
  if (agent->setup().role == Role::producer) checker_.producer_events(events);
  if (agent->setup().role == Role::consumer) checker_.consumer_events(events);
  if (!killed && !clean) {
    fail("agents end only when killed", std::string(to_string(agent->setup().role)) + " gen " +
                                            n(agent->setup().generation) + " ended with " + describe_status(status));
  }
  history_.note(std::string(to_string(agent->setup().role)) + " gen " + n(agent->setup().generation) + " is dead (" +
                describe_status(status) + ")");
  if (agent->setup().role == Role::producer) checker_.producer_gone();
  if (agent->setup().role == Role::consumer) checker_.consumer_gone();
  agent.reset();
  if (disk_ && disk_->cut_requested()) power_loss();
}

std::optional<Reply> Run::call(std::unique_ptr<Agent>& agent, const Command& c, std::chrono::milliseconds patience) {
  std::optional<Reply> r;
  ++tally().operations;
  try {
    r = agent->call(c, patience);
  } catch (const HangDetected& h) {
    fail("no wait outlasts its deadline", h.what + " to " + to_string(c.op) + "(" + n(c.a) + ", " + n(c.b) + ")");
  }
  const std::vector<Event> events = events_of(*agent);
  if (agent->setup().role == Role::producer) checker_.producer_events(events);
  if (agent->setup().role == Role::consumer) checker_.consumer_events(events);
  if (!r) {
    after_death(agent);
    return std::nullopt;
  }
  if (c.op != Op::open) {
    static const char* const kOutcomes[] = {"ok", "would_block", "timed_out", "peer_gone", "error", "n/a"};
    history_.note(std::string(to_string(agent->setup().role)) + " " + to_string(c.op) + "(" + n(c.a) +
                  (c.count ? ", " + n(c.count) + " sizes" : "") + "): " + kOutcomes[static_cast<int>(r->outcome)] +
                  " " + n(r->a) + (r->outcome == Outcome::error ? std::string(" ") + r->text : ""));
  }
  return r;
}

void Run::kill(std::unique_ptr<Agent>& agent) {
  if (!agent) return;
  if (agent->alive()) {
    ++tally().kills;
    history_.note("kill -9 " + std::string(to_string(agent->setup().role)) + " gen " + n(agent->setup().generation));
    agent->kill();
  }
  if (agent->setup().role == Role::consumer) checker_.consumer_knowledge_lost();  // its last releases may be unlogged
  after_death(agent);
}

void Run::close(std::unique_ptr<Agent>& agent) {
  if (!agent || !agent->alive()) return;
  Command c;
  c.op = Op::close;
  const std::optional<Reply> r = call(agent, c);
  if (!agent) return;  // died while closing (a failpoint)
  if (r && r->outcome == Outcome::error) history_.note(std::string("close: ") + r->text);
  agent.reset();  // the socket closes: the agent exits cleanly
}

void Run::kill_fork_copies() {
  for (pid_t pid : fork_copies_) kill_and_reap(pid);
  fork_copies_.clear();
}

void Run::run_tool(const std::string& which) {
  const std::string tool = tool_path();
  if (tool.empty()) return;
  if (awaiting_recovery_) {
    // The file is what the disk kept; the next read-write open recovers it. The tools judge the
    // file as it is, so a torn tail is damage to them: not what this invariant is about.
    history_.note("shmq " + which + ": skipped, the file awaits recovery");
    return;
  }
  ++tally().tool_runs;
  std::vector<std::string> argv{tool, which, queue_.string()};
  if (which == "dump") argv = {tool, "dump", queue_.string(), "--count", "20"};
  if (which == "watch") argv = {tool, "watch", queue_.string(), "--count", "1", "--interval", "10"};
  const std::filesystem::path out = dir_ / ("tool-" + n(++tool_runs_ % 4) + ".txt");
  const ProgramResult r = run_program(argv, out, kHangDetector);
  std::string first_line = r.output.substr(0, r.output.find('\n'));
  history_.note("shmq " + which + ": exit " + std::to_string(r.exit_code) + " " + first_line.substr(0, 160));
  if (r.exit_code != 0) {
    const std::string invariant = which == "verify" ? "verify never calls an undamaged queue damaged"
                                                    : "the tools never fail on an undamaged queue";
    fail(invariant, "shmq " + which + " exited " + std::to_string(r.exit_code) +
                        (r.signal ? std::string(" (") + strsignal(r.signal) + ")" : "") + ": " +
                        r.output.substr(0, 600));
  }
}

void Run::repair() {
  if (awaiting_recovery_) open_consumer();  // recovery first: repair is for what recovery refuses
  kill(producer_);
  kill(consumer_);
  kill_fork_copies();
  std::unique_ptr<Agent> admin = start_agent(Role::admin, {});
  ++tally().repairs;
  Command c;
  c.op = Op::repair;
  history_.note("repair");
  std::optional<Reply> r;
  try {
    r = admin->call(c, kHangDetector);
  } catch (const HangDetected& h) {
    fail("no wait outlasts its deadline", h.what);
  }
  if (!r) fail("agents end only when killed", "the repairing process died");
  if (r->outcome != Outcome::ok) fail("repair succeeds on an undamaged queue", r->text);
  checker_.repaired(r->a, r->b);
}

void Run::power_loss() {
  if (!disk_) return;
  ++tally().power_cuts;
  for (std::unique_ptr<Agent>* a : {&producer_, &consumer_}) {
    if (*a && (*a)->alive()) (*a)->kill();
    if (*a) {
      const std::vector<Event> events = events_of(**a);
      if ((*a)->setup().role == Role::producer) checker_.producer_events(events);
      if ((*a)->setup().role == Role::consumer) checker_.consumer_events(events);
      a->reset();
    }
  }
  kill_fork_copies();
  checker_.producer_gone();
  checker_.consumer_gone();
  checker_.consumer_knowledge_lost();
  const std::string what = disk_->power_loss(disk_rng_);
  ++boot_;
  awaiting_recovery_ = true;
  checker_.power_lost();
  history_.note("power loss (" + what + "), durable acknowledged " + n(checker_.durable_acknowledged()));
}

void Run::keep_artifacts(const std::filesystem::path& to) const {
  std::filesystem::create_directories(to);
  std::error_code ec;
  std::filesystem::copy_file(queue_, to / "queue", std::filesystem::copy_options::overwrite_existing, ec);
  history_.write(to / "history.txt");
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("tool-", 0) == 0 || name.rfind("sample-", 0) == 0 || name == "disk-log")
      std::filesystem::copy_file(entry.path(), to / name, std::filesystem::copy_options::overwrite_existing, ec);
  }
}

}  // namespace shmq::torture
