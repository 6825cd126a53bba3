// Park/wake stress: two processes ping-pong over two queues (A sends on Q1; B receives it and
// replies on Q2; A receives the reply) with blocking send/receive only, at each of a shrinking
// list of spin budgets, so that more and more waits park and every wake races a park.
//
// A lost wakeup is rescued only by the liveness timer (WaitOptions::liveness_interval): it shows
// as a single wait that lasts longer than that interval. Every wait is timed, and the first such
// wait fails the run (exit 1), as does any message out of sequence or not as sent.
//
//   park_wake_stress [--round-trips N] [--budgets 50us,5us,500ns,50ns,0]
//                    [--fencing automatic|full|mixed|seccomp] [--liveness-ms L]
//
// --round-trips: round trips at each budget; by default a billion divided over the budgets.
// --fencing: both sides automatic; both full; mixed (A automatic, B full); seccomp (both
// automatic, but B runs under a seccomp filter that denies membarrier, so it falls back to full
// fences and, facing a membarrier-mode A, parks in kPollingPark slices).
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/prctl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "layout.hpp"
#include "shmq/log.hpp"
#include "shmq/shmq.hpp"
#include "support/role_fencing.hpp"
#include "support/seccomp_membarrier.hpp"

namespace {

using shmq::Consumer;
using shmq::Fencing;
using shmq::Message;
using shmq::OpenOptions;
using shmq::Producer;
using shmq::Result;

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct Config {
  std::uint64_t round_trips = 0;  // per budget; 0: the default
  std::vector<std::int64_t> budgets_ns{50'000, 5'000, 500, 50, 0};
  std::string fencing = "automatic";
  std::int64_t liveness_ms = 5000;
};

std::string format_ns(std::int64_t ns) {
  char buf[64];
  if (ns >= 1'000'000'000)
    std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(ns) / 1e9);
  else if (ns >= 1'000'000)
    std::snprintf(buf, sizeof buf, "%.3f ms", static_cast<double>(ns) / 1e6);
  else if (ns >= 1'000)
    std::snprintf(buf, sizeof buf, "%.3f us", static_cast<double>(ns) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%lld ns", static_cast<long long>(ns));
  return buf;
}

// "50us", "500ns", "1ms", "0": a duration in nanoseconds, or -1.
std::int64_t parse_duration(const std::string& text) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || value < 0) return -1;
  const std::string unit(end);
  if (unit == "ns" || (unit.empty() && value == 0)) return value;
  if (unit == "us") return value * 1'000;
  if (unit == "ms") return value * 1'000'000;
  if (unit == "s") return value * 1'000'000'000;
  return -1;
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "park_wake_stress: %s\nusage: park_wake_stress [--round-trips N] [--budgets 50us,5us,500ns,50ns,0] "
               "[--fencing automatic|full|mixed|seccomp] [--liveness-ms L]\n",
               why);
  std::exit(2);
}

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
    const std::string value = argv[++i];
    if (arg == "--round-trips") {
      c.round_trips = std::strtoull(value.c_str(), nullptr, 10);
      if (c.round_trips == 0) usage("--round-trips must be positive");
    } else if (arg == "--budgets") {
      c.budgets_ns.clear();
      for (std::size_t start = 0; start <= value.size();) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        const std::int64_t ns = parse_duration(value.substr(start, comma - start));
        if (ns < 0) usage(("bad budget in " + value).c_str());
        c.budgets_ns.push_back(ns);
        start = comma + 1;
      }
    } else if (arg == "--fencing") {
      if (value != "automatic" && value != "full" && value != "mixed" && value != "seccomp")
        usage("--fencing is automatic, full, mixed or seccomp");
      c.fencing = value;
    } else if (arg == "--liveness-ms") {
      c.liveness_ms = std::strtoll(value.c_str(), nullptr, 10);
      if (c.liveness_ms <= 0) usage("--liveness-ms must be positive");
    } else {
      usage(("unknown option " + arg).c_str());
    }
  }
  if (c.round_trips == 0) c.round_trips = 1'000'000'000 / c.budgets_ns.size();
  return c;
}

// Message `i`: its number, then 0..24 bytes that depend on it.
std::size_t make_message(std::uint64_t i, unsigned char (&buf)[32]) {
  std::memcpy(buf, &i, 8);
  const std::size_t size = 8 + i % 25;
  for (std::size_t k = 8; k < size; ++k) buf[k] = static_cast<unsigned char>(i * 131 + k);
  return size;
}

bool is_message(const Message& m, std::uint64_t i) {
  unsigned char expected[32];
  const std::size_t size = make_message(i, expected);
  return m.sequence == i && m.bytes.size() == size && std::memcmp(m.bytes.data(), expected, size) == 0;
}

// The longest wait of one side, and the check of every wait against the liveness interval.
struct WaitLog {
  const char* side;
  const Config* config;
  std::int64_t budget_ns;
  std::int64_t longest_ns = 0;
  char longest_what[96] = "none";

  // false: the wait lasted longer than the liveness interval (reported on stderr).
  bool note(const char* what, std::uint64_t round_trip, std::int64_t ns) {
    if (ns > longest_ns) {
      longest_ns = ns;
      std::snprintf(longest_what, sizeof longest_what, "%s %s, round trip %llu", side, what,
                    static_cast<unsigned long long>(round_trip));
    }
    if (ns <= config->liveness_ms * 1'000'000) return true;
    std::fprintf(stderr,
                 "FAIL: %s %s at round trip %llu waited %s, longer than the liveness interval of %lld ms "
                 "(a lost wakeup, rescued by the liveness timer); spin budget %s, fencing %s\n",
                 side, what, static_cast<unsigned long long>(round_trip), format_ns(ns).c_str(),
                 static_cast<long long>(config->liveness_ms), format_ns(budget_ns).c_str(), config->fencing.c_str());
    return false;
  }
};

// What B reports to A through shared memory.
struct BReport {
  std::int64_t longest_ns;
  char longest_what[96];
};

OpenOptions options_for(const Config& c, std::int64_t budget_ns, bool side_b) {
  OpenOptions o;
  o.wait.spin = std::chrono::nanoseconds(budget_ns);
  o.wait.liveness_interval = std::chrono::milliseconds(c.liveness_ms);
  const bool full = c.fencing == "full" || (c.fencing == "mixed" && side_b);
  o.fencing = full ? Fencing::full : Fencing::automatic;
  return o;
}

// Side B: receives on Q1, checks, replies with the same bytes on Q2. 0 or 1 (reported on stderr).
int run_b(const Config& c, std::int64_t budget_ns, const std::filesystem::path& q1, const std::filesystem::path& q2,
          BReport* report) {
  if (c.fencing == "seccomp") {
    if (const int error = shmq::test::deny_membarrier(); error != 0) {
      std::fprintf(stderr, "FAIL: B could not install the seccomp filter: %s\n", std::strerror(error));
      return 1;
    }
  }
  const OpenOptions options = options_for(c, budget_ns, true);
  Consumer in = Consumer::open(q1, options);
  Producer out = Producer::open(q2, options);
  WaitLog log{"B", &c, budget_ns};
  unsigned char reply[32];
  int rc = 0;
  for (std::uint64_t i = 0; i < c.round_trips && rc == 0; ++i) {
    std::int64_t start = now_ns();
    Result<Message> m = in.receive();
    if (!log.note("receive on Q1", i, now_ns() - start)) rc = 1;
    if (!m) {
      std::fprintf(stderr, "FAIL: B receive on Q1 at round trip %llu: %s\n", static_cast<unsigned long long>(i),
                   shmq::to_string(m.status()));
      return 1;
    }
    if (!is_message(*m, i)) {
      std::fprintf(stderr, "FAIL: B round trip %llu: message %llu of %zu bytes is not as sent\n",
                   static_cast<unsigned long long>(i), static_cast<unsigned long long>(m->sequence), m->bytes.size());
      return 1;
    }
    const std::size_t size = m->bytes.size();
    std::memcpy(reply, m->bytes.data(), size);
    in.release();
    start = now_ns();
    Result<std::uint64_t> sent = out.send(std::span<const std::byte>(reinterpret_cast<std::byte*>(reply), size));
    if (!log.note("send on Q2", i, now_ns() - start)) rc = 1;
    if (!sent || *sent != i) {
      std::fprintf(stderr, "FAIL: B send on Q2 at round trip %llu: %s\n", static_cast<unsigned long long>(i),
                   sent ? "wrong sequence" : shmq::to_string(sent.status()));
      return 1;
    }
  }
  report->longest_ns = log.longest_ns;
  std::memcpy(report->longest_what, log.longest_what, sizeof report->longest_what);
  return rc;
}

// The current budget's queue files, for the signal handler (unlink is async-signal-safe).
char g_q1[128];
char g_q2[128];

extern "C" void remove_and_die(int signo) {
  ::unlink(g_q1);
  ::unlink(g_q2);
  ::signal(signo, SIG_DFL);
  ::raise(signo);
}

// Removes the budget's queue files however the run ends (SIGINT and SIGTERM too).
struct QueueFiles {
  std::filesystem::path q1, q2;
  QueueFiles(std::filesystem::path a, std::filesystem::path b) : q1(std::move(a)), q2(std::move(b)) {
    std::snprintf(g_q1, sizeof g_q1, "%s", q1.c_str());
    std::snprintf(g_q2, sizeof g_q2, "%s", q2.c_str());
  }
  ~QueueFiles() {
    std::error_code ignored;
    std::filesystem::remove(q1, ignored);
    std::filesystem::remove(q2, ignored);
  }
};

// One budget: forks B, runs side A here. True when every round trip was checked in time.
bool run_budget(const Config& c, std::int64_t budget_ns, int index) {
  const std::string stem = "/dev/shm/shmq-park-wake-stress-" + std::to_string(::getpid()) + "-" + std::to_string(index);
  QueueFiles files{stem + "-q1", stem + "-q2"};
  shmq::create_queue(files.q1, {.capacity = 4096});
  shmq::create_queue(files.q2, {.capacity = 4096});
  void* shared = ::mmap(nullptr, sizeof(BReport), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) {
    std::perror("mmap");
    return false;
  }
  auto* report = new (shared) BReport{};

  std::fflush(nullptr);
  const pid_t b = ::fork();
  if (b < 0) {
    std::perror("fork");
    return false;
  }
  if (b == 0) {
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // B ends with A, however A ends
    int rc = 1;
    try {
      rc = run_b(c, budget_ns, files.q1, files.q2, report);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "FAIL: B: %s\n", e.what());
    }
    std::fflush(nullptr);
    ::_exit(rc);  // not the parent's cleanup (the queue files are A's to remove)
  }

  bool ok = true;
  const std::int64_t wall_start = now_ns();
  WaitLog log{"A", &c, budget_ns};
  {
    const OpenOptions options = options_for(c, budget_ns, false);
    Producer out = Producer::open(files.q1, options);
    Consumer in = Consumer::open(files.q2, options);
    unsigned char message[32];
    for (std::uint64_t i = 0; i < c.round_trips && ok; ++i) {
      const std::size_t size = make_message(i, message);
      std::int64_t start = now_ns();
      Result<std::uint64_t> sent = out.send(std::span<const std::byte>(reinterpret_cast<std::byte*>(message), size));
      ok = log.note("send on Q1", i, now_ns() - start) && ok;
      if (!sent || *sent != i) {
        std::fprintf(stderr, "FAIL: A send on Q1 at round trip %llu: %s\n", static_cast<unsigned long long>(i),
                     sent ? "wrong sequence" : shmq::to_string(sent.status()));
        ok = false;
        break;
      }
      start = now_ns();
      Result<Message> m = in.receive();
      ok = log.note("receive on Q2", i, now_ns() - start) && ok;
      if (!m) {
        std::fprintf(stderr, "FAIL: A receive on Q2 at round trip %llu: %s\n", static_cast<unsigned long long>(i),
                     shmq::to_string(m.status()));
        ok = false;
        break;
      }
      if (!is_message(*m, i)) {
        std::fprintf(stderr, "FAIL: A round trip %llu: reply %llu of %zu bytes is not as sent\n",
                     static_cast<unsigned long long>(i), static_cast<unsigned long long>(m->sequence), m->bytes.size());
        ok = false;
      }
      in.release();
    }
    if (!ok) ::kill(b, SIGKILL);
  }
  const std::int64_t wall = now_ns() - wall_start;
  int status = 0;
  while (::waitpid(b, &status, 0) < 0 && errno == EINTR) {
  }
  if (ok && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    std::fprintf(stderr, "FAIL: B ended with status %d (spin budget %s, fencing %s)\n", status,
                 format_ns(budget_ns).c_str(), c.fencing.c_str());
    ok = false;
  }

  // What each side actually got: A is Q1's producer, B its consumer.
  const shmq::test::RoleFencing a_fencing = shmq::test::read_role_fencing(files.q1, false);
  const shmq::test::RoleFencing b_fencing = shmq::test::read_role_fencing(files.q1, true);
  const bool b_full = c.fencing == "full" || c.fencing == "mixed" || c.fencing == "seccomp";
  if (ok && b_full && b_fencing.fencing != shmq::layout::kFencingFull) {
    std::fprintf(stderr, "FAIL: B should use full fences under --fencing %s, its RoleLine says %s\n", c.fencing.c_str(),
                 shmq::test::describe(b_fencing).c_str());
    ok = false;
  }
  if (ok && c.fencing == "seccomp" && b_fencing.error != EPERM) {
    std::fprintf(stderr, "FAIL: B under seccomp should record EPERM, its RoleLine says %s\n",
                 shmq::test::describe(b_fencing).c_str());
    ok = false;
  }
  if (ok && c.fencing == "full" && a_fencing.fencing != shmq::layout::kFencingFull) {
    std::fprintf(stderr, "FAIL: A should use full fences, its RoleLine says %s\n",
                 shmq::test::describe(a_fencing).c_str());
    ok = false;
  }

  const bool b_longer = report->longest_ns > log.longest_ns;
  std::printf("spin %-8s %llu round trips in %s, %s per round trip; longest wait %s (%s); fencing A %s, B %s%s\n",
              format_ns(budget_ns).c_str(), static_cast<unsigned long long>(c.round_trips), format_ns(wall).c_str(),
              format_ns(wall / static_cast<std::int64_t>(c.round_trips)).c_str(),
              format_ns(b_longer ? report->longest_ns : log.longest_ns).c_str(),
              b_longer ? report->longest_what : log.longest_what, shmq::test::describe(a_fencing).c_str(),
              shmq::test::describe(b_fencing).c_str(), ok ? "" : "  FAILED");
  std::fflush(stdout);
  ::munmap(shared, sizeof(BReport));
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  const Config c = parse(argc, argv);
  ::unsetenv("SHMQ_FENCING");  // --fencing decides
  shmq::logger()->set_level(spdlog::level::warn);
  ::signal(SIGINT, remove_and_die);
  ::signal(SIGTERM, remove_and_die);  // the attach and detach messages are noise here
  std::printf("park/wake stress: fencing %s, %llu round trips per spin budget, liveness interval %lld ms\n",
              c.fencing.c_str(), static_cast<unsigned long long>(c.round_trips), static_cast<long long>(c.liveness_ms));
  for (std::size_t i = 0; i < c.budgets_ns.size(); ++i) {
    try {
      if (!run_budget(c, c.budgets_ns[i], static_cast<int>(i))) return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "FAIL: %s\n", e.what());
      return 1;
    }
  }
  std::printf("ok\n");
  return 0;
}
