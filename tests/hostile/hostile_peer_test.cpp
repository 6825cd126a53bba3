// Hostile peer: a forked process maps the queue file itself and writes random values into the
// shared positions, sequence words, record headers, payloads, checkpoint slots, wait and role
// lines and the boot line, while it also runs the real peer role through the library (so there is
// real traffic to corrupt). The parent runs a real Consumer (or a real Producer) at full speed.
//
// The victim must keep working or throw shmq::Error(corrupt), and then keep throwing it (sticky);
// opening a damaged file may be refused (damaged or corrupt). It must never crash, never hang (every
// blocking call has a deadline and is timed), and never hand out memory outside the ring of its
// own mapping (each message and reservation is checked against /proc/self/maps and touched; the
// suite runs under ASan+UBSan in CI).
//
// Bounded and reproducible in what it draws: each case runs kOpsPerCase victim operations in rounds of
// at most kOpsPerRound, each round on a fresh queue with a fresh hostile child; the
// seed (SHMQ_TEST_SEED to replay) decides the child's writes and the victim's operations. The
// interleaving of the two processes is, of course, up to the scheduler. No sleeps.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <new>
#include <optional>
#include <ostream>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checksum.hpp"
#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;
using test::TempQueue;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kOpsPerCase = 3000;  // victim operations per test case (the bound of the run)
constexpr int kMaxRounds = 400;              // a fresh queue and a fresh hostile child each
constexpr int kOpsPerRound = 150;            // victim operations per round at most
constexpr int kIdleRounds = 6;               // consecutive operations without progress that end a round
constexpr auto kWait = 20ms;                 // deadline of every blocking victim call
constexpr auto kHang = 5s;                   // a call returning this long after its deadline hung

struct Config {
  const char* name;
  bool durable;
  bool checksums;
  std::uint64_t capacity;
};

const Config kConfigs[] = {
    {"plain", false, false, 4096},
    {"checksums", false, true, 16384},
    {"durable", true, true, 8192},
};

std::string config_name(const testing::TestParamInfo<Config>& info) { return info.param.name; }
void PrintTo(const Config& c, std::ostream* os) { *os << c.name; }

// ---- the hostile side ------------------------------------------------------------------------

// The queue file mapped MAP_SHARED by plain mmap, as any process with write access could.
class FileMap {
 public:
  explicit FileMap(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("hostile: cannot open " + path.string());
    struct stat st {};
    ::fstat(fd, &st);
    size_ = static_cast<std::size_t>(st.st_size);
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw std::runtime_error("hostile: cannot map " + path.string());
    base_ = static_cast<std::byte*>(p);
  }
  ~FileMap() { ::munmap(base_, size_); }
  FileMap(const FileMap&) = delete;
  FileMap& operator=(const FileMap&) = delete;
  std::byte* base() const { return base_; }

 private:
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
};

// Writes one random value somewhere that matters. Half the values are plausible (near what is
// there, aligned, in range: they pass the cheap checks and reach the deep ones), half are wild.
class Scribbler {
 public:
  Scribbler(std::byte* base, std::uint64_t capacity, std::uint64_t seed)
      : base_(base), ring_(base + layout::kHeaderSize), capacity_(capacity), rng_(seed) {}

  void once() {
    const std::uint64_t dice = rng_() % 100;
    if (dice < 10) return position(offsetof(layout::Header, producer));
    if (dice < 20) return position(offsetof(layout::Header, consumer));
    if (dice < 26) return sequence_word();
    if (dice < 44) return record_header();
    if (dice < 52) return payload();
    if (dice < 62) return forged_record();
    if (dice < 74) return checkpoint();
    if (dice < 84) return wait_or_role_line();
    if (dice < 87) return boot_line();
    return record_header();
  }

 private:
  template <class T>
  T load(std::byte* at) {
    return __atomic_load_n(reinterpret_cast<T*>(at), __ATOMIC_RELAXED);
  }
  template <class T>
  void store(std::byte* at, T value) {
    __atomic_store_n(reinterpret_cast<T*>(at), value, __ATOMIC_RELAXED);
  }
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }

  // A value near `v` (plausible) or anywhere (wild).
  std::uint64_t near(std::uint64_t v) {
    switch (below(8)) {
      case 0:
        return v + 8 * below(64);
      case 1:
        return v - 8 * below(64);
      case 2:
        return v + capacity_;
      case 3:
        return v - capacity_ + 8 * below(8);
      case 4:
        return v + 1 + below(7);  // misaligned
      case 5:
        return 0;
      case 6:
        return ~std::uint64_t{0} - 7;
      default:
        return rng_();
    }
  }
  std::uint64_t producer_position() { return load<std::uint64_t>(base_ + offsetof(layout::Header, producer)); }
  std::uint64_t consumer_position() { return load<std::uint64_t>(base_ + offsetof(layout::Header, consumer)); }
  // An 8-aligned ring offset with room for a record header, usually inside or near the live region.
  std::uint64_t ring_offset() {
    const std::uint64_t from = below(4) == 0 ? rng_() : consumer_position();
    const std::uint64_t offset = (from + 8 * below(capacity_ / 8)) & (capacity_ - 8);
    return std::min(offset, capacity_ - sizeof(layout::RecordHeader));
  }

  void position(std::size_t line) { store(base_ + line, near(load<std::uint64_t>(base_ + line))); }

  void sequence_word() {
    const std::size_t line = below(2) == 0 ? offsetof(layout::Header, producer) : offsetof(layout::Header, consumer);
    std::byte* at = base_ + line + offsetof(layout::RoleLine, sequence);
    store(at, below(2) == 0 ? load<std::uint64_t>(at) + below(5) - 2 : rng_());
  }

  void record_header() {
    std::byte* at = ring_ + ring_offset();
    switch (below(7)) {
      case 0:
        store(at, static_cast<std::uint32_t>(rng_()));
        break;  // length: wild
      case 1:
        store(at, static_cast<std::uint32_t>(below(capacity_)));
        break;  // length: in range
      case 2:
        store(at, layout::kPaddingBit | static_cast<std::uint32_t>(below(2) * below(capacity_)));
        break;  // padding
      case 3:
        store(at + 4, static_cast<std::uint32_t>(rng_()));
        break;  // checksum
      case 4:
        store(at + 8, load<std::uint64_t>(at + 8) + below(5) - 2);
        break;  // commit word: near (the commit bit kept)
      case 5:
        store(at + 8, below(2) == 0 ? std::uint64_t{0} : layout::kCommitted | below(1u << 20));
        break;  // commit word: cleared, or committed with a plausible sequence
      default:
        store(at + 8, rng_());
        break;  // sequence: wild
    }
  }

  void payload() {
    std::byte* at = ring_ + ring_offset();
    const std::uint64_t n = 1 + below(64);
    for (std::uint64_t i = 0; i < n && at + i < ring_ + capacity_; ++i)
      store(at + i, static_cast<std::uint8_t>(rng_()));
  }

  // A record that validates (length, commit word, checksum) at the write position, then published:
  // a hostile producer racing the real one.
  void forged_record() {
    const std::uint64_t write = producer_position();
    const std::uint64_t offset = write & (capacity_ - 1);
    const auto length = static_cast<std::uint32_t>(below(std::min<std::uint64_t>(200, capacity_ / 4)));
    if (write % 8 != 0 || offset + layout::record_size(length) > capacity_) return;
    std::byte* at = ring_ + offset;
    const std::uint64_t seq =
        load<std::uint64_t>(base_ + offsetof(layout::Header, producer) + offsetof(layout::RoleLine, sequence));
    for (std::uint32_t i = 0; i < length; ++i) store(at + 16 + i, static_cast<std::uint8_t>(rng_()));
    const std::uint32_t sum = detail::record_checksum(write, seq, length, at + 16, length);
    store(at, std::uint64_t{length} | (std::uint64_t{sum} << 32));
    store(at + 8, layout::kCommitted | seq);
    store(base_ + offsetof(layout::Header, producer) + offsetof(layout::RoleLine, sequence), seq + 1);
    store(base_ + offsetof(layout::Header, producer), write + layout::record_size(length));
  }

  // A random word of a slot, or a whole slot that validates (right checksum and instance id) but
  // holds plausible-to-wild positions.
  void checkpoint() {
    const int slot = static_cast<int>(below(2));
    std::byte* at = base_ + (slot == 0 ? offsetof(layout::Header, slot0) : offsetof(layout::Header, slot1));
    if (below(3) == 0) {
      std::byte* word = at + 8 * below(8);
      store(word, below(2) == 0 ? near(load<std::uint64_t>(word)) : rng_());
      return;
    }
    layout::Checkpoint c{};
    c.counter = 2 * (1 + below(1000)) + static_cast<std::uint64_t>(slot);
    c.read_position = below(2) == 0 ? consumer_position() : near(consumer_position()) & ~std::uint64_t{7};
    c.write_position = below(2) == 0 ? producer_position() : c.read_position + 8 * below(capacity_ / 8 + 1);
    c.write_sequence = below(2) == 0 ? load<std::uint64_t>(base_ + offsetof(layout::Header, producer) + 8) : near(0);
    c.unix_ns = rng_();
    c.instance_id = load<std::uint64_t>(base_ + offsetof(layout::Identity, instance_id));
    c.checksum = detail::bytes_checksum(&c, offsetof(layout::Checkpoint, checksum));
    std::uint64_t words[8];
    std::memcpy(words, &c, sizeof words);
    for (int i = 0; i < 8; ++i) store(at + 8 * i, words[i]);
  }

  void wait_or_role_line() {
    static constexpr std::size_t kWords[] = {
        offsetof(layout::Header, data_ready) + offsetof(layout::WaitLine, epoch),
        offsetof(layout::Header, data_ready) + offsetof(layout::WaitLine, waiting),
        offsetof(layout::Header, space_ready) + offsetof(layout::WaitLine, epoch),
        offsetof(layout::Header, space_ready) + offsetof(layout::WaitLine, waiting),
        offsetof(layout::Header, producer) + offsetof(layout::RoleLine, attached),
        offsetof(layout::Header, consumer) + offsetof(layout::RoleLine, attached),
        offsetof(layout::Header, producer) + offsetof(layout::RoleLine, pid),
        offsetof(layout::Header, consumer) + offsetof(layout::RoleLine, pid)};
    const std::size_t word = kWords[below(std::size(kWords))];
    store(base_ + word, static_cast<std::uint32_t>(below(2) == 0 ? below(2) : rng_()));
    if (below(4) == 0) {  // attach counts (0 means "never attached": changes peer_gone)
      const std::size_t line = below(2) == 0 ? offsetof(layout::Header, producer) : offsetof(layout::Header, consumer);
      store(base_ + line + offsetof(layout::RoleLine, attach_count), below(3));
    }
  }

  // Another boot id: the next open of either side runs recovery on whatever the file holds.
  void boot_line() { store(base_ + offsetof(layout::Header, boot) + 8 * below(2), rng_()); }

  std::byte* base_;
  std::byte* ring_;
  std::uint64_t capacity_;
  std::mt19937_64 rng_;
};

// A page shared with the child: the parent's stop flag and the child's counters.
struct Shared {
  std::atomic<std::uint32_t> stop{0};
  std::atomic<std::uint64_t> scribbles{0};
  std::atomic<std::uint64_t> peer_ops{0};
  std::atomic<std::uint64_t> peer_errors{0};
};

class SharedPage {
 public:
  SharedPage() {
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap of the shared page failed");
    shared_ = new (p) Shared;
  }
  ~SharedPage() { ::munmap(shared_, 4096); }
  Shared* operator->() const { return shared_; }
  Shared& operator*() const { return *shared_; }

 private:
  Shared* shared_;
};

// The child: the real peer role through the library (reopened after each error), interleaved with
// one hostile write every `period` operations on average, until the parent says stop.
int hostile_peer(const std::filesystem::path& path, std::uint64_t capacity, std::uint64_t seed, bool as_producer,
                 Shared& shared) {
  shmq::logger()->set_level(spdlog::level::off);
  FileMap map(path);
  Scribbler scribbler(map.base(), capacity, seed);
  std::mt19937_64 rng(seed ^ 0x5bd1e995);
  const std::uint64_t periods[] = {1, 8, 64, 512, 4096};
  const std::uint64_t period = periods[rng() % std::size(periods)];
  std::optional<Producer> producer;
  std::optional<Consumer> consumer;
  std::vector<std::byte> payload(capacity / 8, std::byte{0x42});
  for (std::uint64_t i = 0; shared.stop.load(std::memory_order_acquire) == 0 && i < 100'000'000; ++i) {
    try {
      if (as_producer) {
        if (!producer && i % 16 == 0) producer.emplace(Producer::open(path));
        if (producer) (void)producer->try_send(std::span<const std::byte>(payload.data(), rng() % payload.size()));
      } else {
        if (!consumer && i % 16 == 0) consumer.emplace(Consumer::open(path));
        if (consumer) {
          if (rng() % 4 == 0) {
            consumer->release();
          } else {
            (void)consumer->try_receive();
          }
        }
      }
      shared.peer_ops.fetch_add(1, std::memory_order_relaxed);
    } catch (const Error&) {
      shared.peer_errors.fetch_add(1, std::memory_order_relaxed);
      producer.reset();
      consumer.reset();
    }
    if (rng() % period == 0) {
      scribbler.once();
      shared.scribbles.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return 0;
}

// ---- the victim side -------------------------------------------------------------------------

// Where the library mapped the queue file in this process (from /proc/self/maps).
struct Range {
  std::uintptr_t begin = 0, end = 0;
  bool contains(const void* p, std::size_t n) const {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    return a >= begin && a <= end && n <= end - a;
  }
};

Range ring_of_mapping(const std::filesystem::path& path) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  Range found;
  int count = 0;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, file;
    in >> range >> perms >> offset >> dev >> inode >> file;
    if (file != path.string()) continue;
    found.begin = std::stoull(range.substr(0, range.find('-')), nullptr, 16) + layout::kHeaderSize;
    found.end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    ++count;
  }
  EXPECT_EQ(count, 1) << "mappings of " << path << " in this process";
  return found;
}

struct Stats {
  std::uint64_t ops = 0, messages = 0, sent = 0, corrupt = 0, refused = 0, timed_out = 0, peer_gone = 0,
                would_block = 0, syncs = 0;
  void count(Status s) {
    if (s == Status::timed_out) ++timed_out;
    if (s == Status::peer_gone) ++peer_gone;
    if (s == Status::would_block) ++would_block;
  }
  std::string summary() const {
    std::ostringstream s;
    s << ops << " victim operations: " << messages << " messages received, " << sent << " sent, " << syncs << " syncs, "
      << corrupt << " corrupt (sticky) errors, " << refused << " opens refused, " << would_block << " would_block, "
      << timed_out << " timed_out, " << peer_gone << " peer_gone";
    return s.str();
  }
};

// SHMQ_HOSTILE_VERBOSE=1 prints every error the victim reported (what the hostile writes hit).
void note(const Error& e) {
  static const bool verbose = std::getenv("SHMQ_HOSTILE_VERBOSE") != nullptr;
  if (verbose) std::printf("victim: %s: %s\n", to_string(e.code()), e.what());
}

bool open_refusal_ok(ErrorCode code) {
  return code == ErrorCode::damaged_file || code == ErrorCode::peer_broke_protocol;
}

std::uint64_t touch(std::span<const std::byte> bytes) {
  std::uint64_t sum = 0;
  for (std::byte b : bytes) sum += std::to_integer<std::uint8_t>(b);
  return sum;
}

// Runs `call`, failing the test when it returns long after `deadline_of_call`.
template <class F>
auto timed(F&& call, std::chrono::nanoseconds deadline_of_call) -> decltype(call()) {
  const auto start = Clock::now();
  struct Check {
    Clock::time_point start;
    std::chrono::nanoseconds limit;
    ~Check() {
      const auto took = Clock::now() - start;
      EXPECT_LT(took, limit) << "a call with a deadline of " << (limit - kHang).count() << " ns took "
                             << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms (hang)";
    }
  } check{start, deadline_of_call + kHang};
  return call();
}

// Expects `call` to throw shmq::Error(corrupt): what a broken handle does from then on.
void expect_sticky(const std::function<void()>& call, const char* what) {
  try {
    call();
    ADD_FAILURE() << what << " succeeded on a handle that had reported corruption";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::peer_broke_protocol) << what << ": " << e.what();
  }
}

class HostilePeer : public testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    seed_ = test::test_seed();
    std::printf("hostile peer seed: %llu (SHMQ_TEST_SEED=%llu to replay)\n", static_cast<unsigned long long>(seed_),
                static_cast<unsigned long long>(seed_));
    level_ = shmq::logger()->level();
    shmq::logger()->set_level(spdlog::level::off);  // thousands of expected errors
  }
  void TearDown() override { shmq::logger()->set_level(level_); }

  CreateOptions create_options() const {
    CreateOptions o;
    o.capacity = GetParam().capacity;
    o.durable = GetParam().durable;
    o.checksums = GetParam().checksums;
    o.checkpoints = CheckpointPolicy{GetParam().capacity / 2, 10ms};  // the background thread runs too
    return o;
  }

  // One round: a fresh queue, a hostile child playing the other role, `victim` in this process.
  void round(int r, bool child_is_producer,
             const std::function<void(const std::filesystem::path&, std::mt19937_64&)>& victim) {
    TempQueue q;
    create_queue(q.path(), create_options());
    SharedPage shared;
    const std::uint64_t child_seed = seed_ * 1000003 + static_cast<std::uint64_t>(r);
    ChildProcess child(
        [&] { return hostile_peer(q.path(), GetParam().capacity, child_seed, child_is_producer, *shared); });
    std::mt19937_64 rng(child_seed ^ 0xfeed);
    victim(q.path(), rng);
    shared->stop.store(1, std::memory_order_release);
    const int status = child.wait(std::chrono::seconds(60));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "the hostile child (which also runs the library) died: status " << status
        << (WIFSIGNALED(status) ? " signal " + std::to_string(WTERMSIG(status)) : std::string());
    scribbles_ += shared->scribbles.load();
    peer_ops_ += shared->peer_ops.load();
  }

  std::uint64_t seed_ = 0;
  spdlog::level::level_enum level_{};
  Stats stats_;
  std::uint64_t scribbles_ = 0, peer_ops_ = 0;
};

TEST_P(HostilePeer, ConsumerSurvivesAHostileProducer) {
  const std::uint64_t max_size = GetParam().capacity - sizeof(layout::RecordHeader);
  for (int r = 0; stats_.ops < kOpsPerCase && r < kMaxRounds && !HasFatalFailure(); ++r) {
    round(r, /*child_is_producer=*/true, [&](const std::filesystem::path& path, std::mt19937_64& rng) {
      std::optional<Consumer> c;
      Range ring;
      std::uint64_t expected = 0;
      int idle = 0;
      const auto check = [&](const Message& m) {
        ++stats_.messages;
        idle = 0;
        EXPECT_EQ(m.sequence, expected) << "out of order";
        expected = m.sequence + 1;
        EXPECT_LE(m.bytes.size(), max_size);
        EXPECT_TRUE(ring.contains(m.bytes.data(), m.bytes.size())) << "a message outside the ring of the mapping";
        (void)touch(m.bytes);
      };
      for (int op = 0; op < kOpsPerRound && idle < kIdleRounds; ++op, ++stats_.ops) {
        if (!c) {
          try {
            c.emplace(Consumer::open(path));
            ring = ring_of_mapping(path);
            expected = c->next_sequence();
          } catch (const Error& e) {
            note(e);
            EXPECT_TRUE(open_refusal_ok(e.code())) << e.what();
            ++stats_.refused;
            ++idle;
            continue;
          }
        }
        try {
          Result<Message> m = Status::would_block;
          switch (rng() % 5) {
            case 0:
              m = c->try_receive();
              break;
            case 1:
            case 2:
              m = timed([&] { return c->receive_for(kWait); }, kWait);
              break;
            case 3:
              if (c->poll(check, 1 + rng() % 64) > 0) continue;
              m = Status::would_block;
              break;
            default:
              c->release();
              (void)c->watermarks();
              continue;
          }
          if (m) {
            check(*m);
          } else {
            ++idle;
            stats_.count(m.status());
          }
        } catch (const Error& e) {
          note(e);
          ASSERT_EQ(e.code(), ErrorCode::peer_broke_protocol) << e.what();
          ++stats_.corrupt;
          expect_sticky([&] { (void)c->try_receive(); }, "try_receive");
          expect_sticky([&] { (void)timed([&] { return c->receive_for(kWait); }, kWait); }, "receive_for");
          expect_sticky([&] { (void)c->poll([](const Message&) {}); }, "poll");
          c.reset();  // and open again: the file may be refused now, or work
        }
      }
    });
  }
  std::printf("%s; hostile child: %llu writes, %llu producer operations\n", stats_.summary().c_str(),
              static_cast<unsigned long long>(scribbles_), static_cast<unsigned long long>(peer_ops_));
  EXPECT_GT(stats_.corrupt + stats_.refused, 0u) << "the hostile peer never got noticed: the test tests nothing";
}

TEST_P(HostilePeer, ProducerSurvivesAHostileConsumer) {
  const bool durable = GetParam().durable;
  for (int r = 0; stats_.ops < kOpsPerCase && r < kMaxRounds && !HasFatalFailure(); ++r) {
    round(r, /*child_is_producer=*/false, [&](const std::filesystem::path& path, std::mt19937_64& rng) {
      std::optional<Producer> p;
      Range ring;
      int idle = 0;
      std::vector<std::byte> payload(GetParam().capacity, std::byte{0x17});
      for (int op = 0; op < kOpsPerRound && idle < kIdleRounds; ++op, ++stats_.ops) {
        if (!p) {
          try {
            p.emplace(Producer::open(path));
            ring = ring_of_mapping(path);
          } catch (const Error& e) {
            note(e);
            EXPECT_TRUE(open_refusal_ok(e.code())) << e.what();
            ++stats_.refused;
            ++idle;
            continue;
          }
        }
        const std::size_t size = rng() % (p->max_message_size() / 4 + 1);
        const std::span<const std::byte> message(payload.data(), size);
        try {
          Result<std::uint64_t> sent = Status::would_block;
          switch (rng() % 6) {
            case 0:
              sent = p->try_send(message, rng() % 2 == 0 ? Publish::now : Publish::later);
              break;
            case 1:
            case 2:
              sent = timed([&] { return p->send_for(message, kWait); }, kWait);
              break;
            case 3: {
              Result<Reservation> room = timed([&] { return p->reserve_for(size, kWait); }, kWait);
              if (room) {
                EXPECT_TRUE(ring.contains(room->bytes().data(), room->bytes().size()))
                    << "a reservation outside the ring";
                std::memset(room->bytes().data(), 0x3c, room->bytes().size());
                if (rng() % 4 == 0) {
                  room->abandon();
                  continue;
                }
                sent = room->commit(rng() % (size + 1), rng() % 2 == 0 ? Publish::now : Publish::later);
              } else {
                sent = room.status();
              }
              break;
            }
            case 4:
              if (durable) {
                (void)timed([&] { return p->sync(); }, 0ns);
                ++stats_.syncs;
              } else {
                p->publish();
              }
              continue;
            default:
              (void)p->watermarks();
              if (durable && p->next_sequence() > 0) timed([&] { p->wait_durable(p->next_sequence() - 1); }, 0ns);
              continue;
          }
          if (sent) {
            ++stats_.sent;
            idle = 0;
          } else {
            ++idle;
            stats_.count(sent.status());
          }
        } catch (const Error& e) {
          note(e);
          ASSERT_EQ(e.code(), ErrorCode::peer_broke_protocol) << e.what();
          ++stats_.corrupt;
          expect_sticky([&] { (void)p->try_send(message); }, "try_send");
          expect_sticky([&] { (void)timed([&] { return p->send_for(message, kWait); }, kWait); }, "send_for");
          if (durable) expect_sticky([&] { (void)p->sync(); }, "sync");
          p.reset();
        }
      }
    });
  }
  std::printf("%s; hostile child: %llu writes, %llu consumer operations\n", stats_.summary().c_str(),
              static_cast<unsigned long long>(scribbles_), static_cast<unsigned long long>(peer_ops_));
  EXPECT_GT(stats_.corrupt + stats_.refused, 0u) << "the hostile peer never got noticed: the test tests nothing";
}

INSTANTIATE_TEST_SUITE_P(Hostile, HostilePeer, testing::ValuesIn(kConfigs), config_name);

}  // namespace
}  // namespace shmq
