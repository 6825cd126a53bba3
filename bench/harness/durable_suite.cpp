// Durable mode, shmq alone. Every queue lives under
// --disk-dir (a real file system) and is removed afterwards.
// (a) Fill: a producer alone (no consumer) fills a durable queue of --durable-fill-bytes with
//     1024-byte messages and 10 ms checkpoints until the ring is full, then sync(); MB/s of payload
//     from the first send to the end of sync(), over a sequential write + fdatasync of as many
//     bytes (--disk-bytes) to the same disk taken just before it. The disk's speed drifts by 2x
//     within an hour here, so reference and fill alternate --durable-rounds times and the median
//     of the per-round ratios is the result.
// (b) sync() latency: a producer sends kSyncBatch 64-byte messages, then times sync(); a consumer
//     keeps up and checks every sequence number. The queue takes no timed checkpoints (explicit
//     sync() only), so every sync() has its batch to make durable.
// (c) The 64-byte throughput of "shmq durable 10 ms checkpoints" over "shmq busy-poll", both taken
//     from the throughput rows of the same run.
#include <algorithm>
#include <bit>
#include <filesystem>
#include <vector>

#include <shmq/shmq.hpp>

#include "sequence_check.hpp"
#include "suites.hpp"
#include "transports/transport_factories.hpp"

namespace bench {

namespace {

constexpr std::size_t kFillMessageSize = 1024;
constexpr std::size_t kSyncMessageSize = 64;
constexpr std::size_t kSyncBatch = 32;
constexpr unsigned kReleaseEvery = 64;

[[noreturn]] void fail(const char* what, shmq::Status status) {
  throw std::runtime_error(std::string(what) + ": " + shmq::to_string(status));
}

// Creates a durable queue file under config.disk_dir and removes it when it goes.
class DurableQueueFile {
 public:
  DurableQueueFile(const Config& config, const char* prefix, std::uint64_t capacity, shmq::CheckpointPolicy checkpoints)
      : path_(config.disk_dir / unique_resource_name(prefix)) {
    shmq::CreateOptions create;
    create.capacity = std::bit_ceil(std::max<std::uint64_t>(capacity, 4096));
    create.durable = true;  // checksums: on, the durable default
    create.checkpoints = checkpoints;
    shmq::create_queue(path_, create);
    capacity_ = create.capacity;
  }
  ~DurableQueueFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  DurableQueueFile(const DurableQueueFile&) = delete;
  DurableQueueFile& operator=(const DurableQueueFile&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }
  std::uint64_t capacity() const noexcept { return capacity_; }

 private:
  std::filesystem::path path_;
  std::uint64_t capacity_ = 0;
};

void measure_fill(const Config& config, DurableResults& out) {
  // A 1 GiB fill can outlast the hang detector meant for 0.25 s repetitions.
  Config fill_config = config;
  fill_config.run_timeout = std::max(config.run_timeout, std::chrono::seconds{config.smoke ? 20 : 900});
  try {
    DurableQueueFile queue(config, "shmq-bench-fill", config.durable_fill_bytes, {0, std::chrono::milliseconds{10}});
    out.fill_queue_bytes = queue.capacity();
    SharedBoardMapping board;
    auto producer = [&](SharedBoard& b) {
      auto p = shmq::Producer::open(queue.path());
      std::vector<std::byte> message(kFillMessageSize, std::byte{0x5a});
      std::uint64_t sequence = 0;
      b.start_ns[0] = now_ns();
      for (;;) {
        write_sequence(message, sequence);
        auto sent = p.try_send(message);
        if (!sent) {
          if (sent.status() == shmq::Status::would_block) break;  // the ring is full: no consumer
          fail("try_send", sent.status());
        }
        ++sequence;
      }
      p.sync();
      b.end_ns[0] = now_ns();
      b.count[0] = sequence;
    };
    auto idle = [](SharedBoard&) {};
    const PairResult pair = run_pair(fill_config, *board, producer, idle);
    out.fill_pinned = pair.pinned;
    out.fill_status = status_of(pair, false);
    if (out.fill_status.state != RowState::ok) return;
    out.fill_messages = board->count[0];
    out.fill_seconds = static_cast<double>(std::max<std::uint64_t>(board->end_ns[0] - board->start_ns[0], 1)) / 1e9;
    out.fill_megabytes_per_second = static_cast<double>(out.fill_messages * kFillMessageSize) / 1e6 / out.fill_seconds;
  } catch (const std::exception& e) {
    out.fill_status = {RowState::failed, e.what()};
  }
}

void measure_sync_latency(const Config& config, DurableResults& out) {
  out.sync_batch = kSyncBatch;
  const std::uint64_t warmup = std::max<std::uint64_t>(1, config.sync_rounds / 10);
  const std::uint64_t rounds = warmup + config.sync_rounds;
  try {
    DurableQueueFile queue(config, "shmq-bench-sync", config.ring_bytes, {0, std::chrono::milliseconds{0}});
    SharedBoardMapping board;
    auto producer = [&](SharedBoard& b) {
      auto p = shmq::Producer::open(queue.path());
      std::vector<std::byte> message(kSyncMessageSize, std::byte{0x5a});
      b.barrier.arrive();  // both ends open
      std::uint64_t sequence = 0;
      for (std::uint64_t round = 0; round < rounds; ++round) {
        for (std::size_t i = 0; i < kSyncBatch; ++i) {
          write_sequence(message, sequence++);
          for (;;) {
            auto sent = p.try_send(message, shmq::Publish::later);
            if (sent) break;
            if (sent.status() != shmq::Status::would_block) fail("try_send", sent.status());
            p.publish();
            cpu_relax();
          }
        }
        const std::uint64_t start = now_ns();
        p.sync();
        if (round >= warmup) b.histogram.record(now_ns() - start);
      }
    };
    auto consumer = [&](SharedBoard& b) {
      auto c = shmq::Consumer::open(queue.path());
      b.barrier.arrive();
      unsigned held = 0;
      for (std::uint64_t expected = 0; expected < rounds * kSyncBatch;) {
        auto message = c.try_receive();
        if (message) {
          expect_sequence(message->bytes, kSyncMessageSize, expected++);
          if (++held == kReleaseEvery) c.release(), held = 0;
          continue;
        }
        if (message.status() != shmq::Status::would_block) fail("try_receive", message.status());
        if (held != 0) c.release(), held = 0;
        cpu_relax();
      }
      if (held != 0) c.release();
    };
    const PairResult pair = run_pair(config, *board, producer, consumer);
    out.sync_pinned = pair.pinned;
    out.sync_status = status_of(pair, false);
    if (out.sync_status.state != RowState::ok) return;
    const Histogram& h = board->histogram;
    out.syncs = h.count();
    out.sync_p50_ns = static_cast<double>(h.percentile(50));
    out.sync_p99_ns = static_cast<double>(h.percentile(99));
    out.sync_max_ns = static_cast<double>(h.max());
  } catch (const std::exception& e) {
    out.sync_status = {RowState::failed, e.what()};
  }
}

// placement: the class the row must have been measured in (nullptr: any).
const ThroughputRow* find_row(const std::vector<ThroughputRow>& rows, const std::string& transport, std::size_t size,
                              const std::string* placement) {
  for (const auto& row : rows) {
    if (!row.reference && row.transport == transport && row.size == size && row.status.state == RowState::ok &&
        (placement == nullptr || row.placement.class_name == *placement))
      return &row;
  }
  return nullptr;
}

// The medians (msg/s) of rows `over` and `under` at `size` and their ratio; all 0 unless both ran.
struct MedianRatio {
  double over = 0, under = 0, ratio = 0;
};
MedianRatio median_ratio(const std::vector<ThroughputRow>& rows, const std::string& over, const std::string& under,
                         std::size_t size, bool by_placement) {
  // With --placements, the first class where both rows were measured; else the rows as they ran.
  for (const auto& row : rows) {
    if (row.transport != over || row.size != size || row.status.state != RowState::ok) continue;
    const ThroughputRow* b = find_row(rows, under, size, by_placement ? &row.placement.class_name : nullptr);
    if (b == nullptr || b->messages_per_second.median <= 0) continue;
    return {row.messages_per_second.median, b->messages_per_second.median,
            row.messages_per_second.median / b->messages_per_second.median};
  }
  return {};
}

}  // namespace

DurableResults measure_durable(const Config& config, const std::vector<ThroughputRow>& throughput) {
  DurableResults out;
  std::vector<double> disks, fills;
  for (int round = 0; round < std::max(1, config.durable_rounds); ++round) {
    double disk = 0;
    try {
      disk = disk_write_megabytes_per_second(config);
    } catch (const std::exception&) {
      disk = 0;  // no reference (e.g. an unwritable directory): the fill still runs, with no ratio
    }
    measure_fill(config, out);
    if (out.fill_status.state != RowState::ok) break;
    fills.push_back(out.fill_megabytes_per_second);
    if (disk > 0) {
      disks.push_back(disk);
      out.fill_to_disk_rounds.push_back(out.fill_megabytes_per_second / disk);
    }
  }
  if (!fills.empty()) out.fill_megabytes_per_second = spread_of(fills).median;
  if (!disks.empty()) out.disk_megabytes_per_second = spread_of(disks).median;
  if (!out.fill_to_disk_rounds.empty()) out.fill_to_disk = spread_of(out.fill_to_disk_rounds).median;
  measure_sync_latency(config, out);

  out.durable_row = shmq_transport_name(ShmqMode::durable_10ms);
  out.non_durable_row = shmq_transport_name(ShmqMode::busy_poll);
  const MedianRatio durable =
      median_ratio(throughput, out.durable_row, out.non_durable_row, kSyncMessageSize, !config.placements.empty());
  out.durable_64_messages_per_second = durable.over;
  out.non_durable_64_messages_per_second = durable.under;
  out.durable_to_non_durable = durable.ratio;
  out.checksummed_row = shmq_transport_name(ShmqMode::checksummed);
  for (const std::size_t size : {std::size_t{64}, std::size_t{1024}}) {
    const MedianRatio cost =
        median_ratio(throughput, out.checksummed_row, out.non_durable_row, size, !config.placements.empty());
    out.checksum_costs.push_back({size, cost.over, cost.under, cost.ratio});
  }
  return out;
}

}  // namespace bench
