// Micro-benchmarks of shmq's in-process hot paths: one thread sends and receives in turn on a
// /dev/shm queue, so the figures are the cost of the calls themselves (no cross-core traffic).
// Copying try_send vs reserve/commit, with and without per-record checksums, at 8/64/1024 bytes.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <shmq/shmq.hpp>
#include <spdlog/spdlog.h>

namespace {

enum class Write { copy, reserve_commit };

// A fresh queue file with one producer and one consumer, removed at the end.
struct QueuePair {
  explicit QueuePair(bool checksums)
      : path(std::filesystem::path("/dev/shm") /
             ("shmq-micro-" + std::to_string(getpid()) + "-" + std::to_string(counter++))) {
    shmq::CreateOptions options;
    options.capacity = std::uint64_t{1} << 20;
    options.checksums = checksums;
    shmq::create_queue(path, options);
    producer.emplace(shmq::Producer::open(path));
    consumer.emplace(shmq::Consumer::open(path));
  }
  ~QueuePair() {
    producer.reset();
    consumer.reset();
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
  QueuePair(const QueuePair&) = delete;
  QueuePair& operator=(const QueuePair&) = delete;

  static inline int counter = 0;
  std::filesystem::path path;
  std::optional<shmq::Producer> producer;
  std::optional<shmq::Consumer> consumer;
};

void send_receive(benchmark::State& state, Write write, bool checksums) {
  shmq::logger()->set_level(spdlog::level::warn);  // a queue is created per run: keep the table readable
  const auto size = static_cast<std::size_t>(state.range(0));
  QueuePair queue(checksums);
  std::vector<std::byte> message(size, std::byte{0x5a});
  for (auto _ : state) {
    if (write == Write::copy) {
      if (!queue.producer->try_send(message)) state.SkipWithError("try_send would block");
    } else {
      auto reservation = queue.producer->try_reserve(size);
      if (!reservation) {
        state.SkipWithError("try_reserve would block");
        break;
      }
      reservation->bytes()[0] = std::byte{1};
      reservation->commit(size);
    }
    auto received = queue.consumer->try_receive();
    if (!received) {
      state.SkipWithError("try_receive found nothing");
      break;
    }
    benchmark::DoNotOptimize(received->bytes.data());
    queue.consumer->release();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void BM_CopyingSendReceive(benchmark::State& state) { send_receive(state, Write::copy, false); }
void BM_CopyingSendReceiveChecksummed(benchmark::State& state) { send_receive(state, Write::copy, true); }
void BM_ReserveCommitReceive(benchmark::State& state) { send_receive(state, Write::reserve_commit, false); }
void BM_ReserveCommitReceiveChecksummed(benchmark::State& state) { send_receive(state, Write::reserve_commit, true); }

BENCHMARK(BM_CopyingSendReceive)->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_CopyingSendReceiveChecksummed)->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_ReserveCommitReceive)->Arg(8)->Arg(64)->Arg(1024);
BENCHMARK(BM_ReserveCommitReceiveChecksummed)->Arg(8)->Arg(64)->Arg(1024);

}  // namespace
