// How each side fences its publications (waiting.hpp, "The wake protocol"): what the RoleLines
// record for OpenOptions::fencing, SHMQ_FENCING=full and a seccomp filter that denies membarrier,
// and that messages flow intact through blocking waits in every mix of the two variants. Every
// wait parks (spin 0) and the liveness poll is off (one hour), so a lost wakeup hangs a side: the
// hang detector on the children is the only deadline.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "support/child_process.hpp"
#include "support/role_fencing.hpp"
#include "support/seccomp_membarrier.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

constexpr std::uint64_t kMessages = 100'000;
constexpr bool kProducer = false;
constexpr bool kConsumer = true;

OpenOptions parking(Fencing fencing) {
  OpenOptions options;
  options.fencing = fencing;
  options.wait.spin = std::chrono::nanoseconds(0);
  options.wait.liveness_interval = std::chrono::hours(1);
  return options;
}

// Message `seq`: its sequence number, then 0..56 bytes that depend on it.
std::vector<std::byte> message(std::uint64_t seq) {
  std::vector<std::byte> bytes(8 + seq % 57);
  std::memcpy(bytes.data(), &seq, 8);
  for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>(seq * 131 + i);
  return bytes;
}

// The bodies of the children: 0, or the code of the step that went wrong.
int send_all(const std::filesystem::path& path, const OpenOptions& options) {
  Producer producer = Producer::open(path, options);
  for (std::uint64_t i = 0; i < kMessages; ++i) {
    Result<std::uint64_t> sent = producer.send(message(i));
    if (!sent || *sent != i) {
      std::fprintf(stderr, "send %llu: %s\n", static_cast<unsigned long long>(i), to_string(sent.status()));
      return 20;
    }
  }
  return 0;
}

int receive_all(const std::filesystem::path& path, const OpenOptions& options) {
  Consumer consumer = Consumer::open(path, options);
  for (std::uint64_t i = 0; i < kMessages; ++i) {
    Result<Message> m = consumer.receive();
    if (!m) {
      std::fprintf(stderr, "receive %llu: %s\n", static_cast<unsigned long long>(i), to_string(m.status()));
      return 30;
    }
    const std::vector<std::byte> expected = message(i);
    const bool intact = m->sequence == i && m->bytes.size() == expected.size() &&
                        std::memcmp(m->bytes.data(), expected.data(), expected.size()) == 0;
    consumer.release();
    if (!intact) {
      std::fprintf(stderr, "message %llu: sequence %llu, %zu bytes, not as sent\n", static_cast<unsigned long long>(i),
                   static_cast<unsigned long long>(m->sequence), m->bytes.size());
      return 31;
    }
  }
  return 0;
}

// Installs the filter, checks it bites, then runs `body`.
template <class Body>
int in_seccomp(Body&& body) {
  if (test::deny_membarrier() != 0) return 40;
  if (::syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0) != -1 || errno != EPERM) return 41;
  return body();
}

// What Fencing::automatic must pick here: membarrier exactly when the kernel offers both commands.
bool kernel_offers_membarrier() {
  const long supported = ::syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  constexpr long kNeeded = MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
  return supported >= 0 && (supported & kNeeded) == kNeeded;
}

void expect_automatic(const test::RoleFencing& r) {
  if (kernel_offers_membarrier()) {
    EXPECT_EQ(r.fencing, layout::kFencingMembarrier) << test::describe(r);
    EXPECT_EQ(r.error, 0u);
  } else {
    EXPECT_EQ(r.fencing, layout::kFencingFull) << test::describe(r);
    EXPECT_NE(r.error, 0u);
  }
}

void expect_full(const test::RoleFencing& r, std::uint32_t error) {
  EXPECT_EQ(r.fencing, layout::kFencingFull) << test::describe(r);
  EXPECT_EQ(r.error, error);
}

// Producer and consumer each in a child of its own; both must end cleanly.
void run_traffic(const std::function<int()>& producer, const std::function<int()>& consumer) {
  test::ChildProcess consuming(consumer);
  test::ChildProcess producing(producer);
  EXPECT_EQ(producing.exit_code(), 0) << "the producer";
  EXPECT_EQ(consuming.exit_code(), 0) << "the consumer";
}

// The tests choose the fencing themselves: a SHMQ_FENCING=full in the environment of the run
// would turn every automatic choice into full fences.
class FencingTest : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("SHMQ_FENCING"); }
};

TEST_F(FencingTest, FullWhenRequestedIsRecordedAndCarriesTraffic) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 4096});
  const OpenOptions full = parking(Fencing::full);
  run_traffic([&] { return send_all(q.path(), full); }, [&] { return receive_all(q.path(), full); });
  expect_full(test::read_role_fencing(q.path(), kProducer), 0);
  expect_full(test::read_role_fencing(q.path(), kConsumer), 0);
}

TEST_F(FencingTest, AutomaticMatchesWhatTheKernelOffers) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 4096});
  {
    Producer producer = Producer::open(q.path());
    Consumer consumer = Consumer::open(q.path());
    expect_automatic(test::read_role_fencing(q.path(), kProducer));
    expect_automatic(test::read_role_fencing(q.path(), kConsumer));
  }
  // Still recorded after both left (for `shmq stat`).
  expect_automatic(test::read_role_fencing(q.path(), kProducer));
}

TEST_F(FencingTest, EnvironmentForcesFull) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 4096});
  test::ChildProcess child([&] {
    if (::setenv("SHMQ_FENCING", "full", 1) != 0) return 2;
    Producer producer = Producer::open(q.path());  // Fencing::automatic
    Consumer consumer = Consumer::open(q.path());
    return 0;
  });
  ASSERT_EQ(child.exit_code(), 0);
  expect_full(test::read_role_fencing(q.path(), kProducer), 0);
  expect_full(test::read_role_fencing(q.path(), kConsumer), 0);
}

TEST_F(FencingTest, SeccompDeniedMembarrierIsRecordedAndShownByStat) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 4096});
  test::ChildProcess child([&] {
    return in_seccomp([&] {
      Producer producer = Producer::open(q.path());
      return 0;
    });
  });
  ASSERT_EQ(child.exit_code(), 0);
  expect_full(test::read_role_fencing(q.path(), kProducer), EPERM);
#ifdef SHMQ_TOOL_PATH
  const test::ProgramRun stat = test::ChildProcess({SHMQ_TOOL_PATH, "stat", q.str()}).finish();
  ASSERT_EQ(stat.exit_code, 0) << test::describe(stat);
  EXPECT_NE(stat.out.find("fencing    producer full fence per message (membarrier unavailable: "), std::string::npos)
      << stat.out;
  EXPECT_NE(stat.out.find("(" + std::to_string(EPERM) + ")"), std::string::npos) << stat.out;
  const test::ProgramRun json = test::ChildProcess({SHMQ_TOOL_PATH, "stat", "--json", q.str()}).finish();
  ASSERT_EQ(json.exit_code, 0) << test::describe(json);
  EXPECT_NE(json.out.find("\"full\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("membarrier unavailable: "), std::string::npos) << json.out;
#endif
}

TEST_F(FencingTest, SeccompProducerToNormalConsumer) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 4096});
  const OpenOptions automatic = parking(Fencing::automatic);
  run_traffic([&] { return in_seccomp([&] { return send_all(q.path(), automatic); }); },
              [&] { return receive_all(q.path(), automatic); });
  expect_full(test::read_role_fencing(q.path(), kProducer), EPERM);
  expect_automatic(test::read_role_fencing(q.path(), kConsumer));
}

// The seccomp consumer cannot run membarrier while the producer does not fence: it parks in
// kPollingPark slices, and still receives everything.
TEST_F(FencingTest, NormalProducerToSeccompConsumer) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 4096});
  const OpenOptions automatic = parking(Fencing::automatic);
  run_traffic([&] { return send_all(q.path(), automatic); },
              [&] { return in_seccomp([&] { return receive_all(q.path(), automatic); }); });
  expect_automatic(test::read_role_fencing(q.path(), kProducer));
  expect_full(test::read_role_fencing(q.path(), kConsumer), EPERM);
}

}  // namespace
}  // namespace shmq
