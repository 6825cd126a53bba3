// The measurements, each on one transport (or reference) and one message size. Each runs its own
// pair of child processes; none throws for a transport that cannot run (the row says so).
#pragma once

#include "config.hpp"
#include "histogram.hpp"
#include "process_pair.hpp"
#include "results.hpp"
#include "transport.hpp"

namespace bench {

ThroughputRow measure_throughput(const Config& config, Transport& transport, std::size_t size);
LatencyRow measure_latency(const Config& config, Transport& transport, std::size_t size);
IdleRow measure_idle(const Config& config, Transport& transport);

// References for the physical limits.
// Round trips of one cache line written in turn by two processes (busy-poll floor; also the
// placement probe).
LatencyRow measure_cacheline_ping_pong(const Config& config, std::uint64_t round_trips, int repetitions);
// Round trips of a 64-byte payload line plus a separate index line each way: the floor of a queue
// that publishes through an index kept apart from its data.
LatencyRow measure_index_and_data_ping_pong(const Config& config, std::uint64_t round_trips, int repetitions);
// Round trips through a shared futex word, FUTEX_WAIT/FUTEX_WAKE only (blocking floor).
LatencyRow measure_futex_ping_pong(const Config& config);
// memcpy of messages through a ring of config.ring_bytes, one process.
ThroughputRow measure_memcpy(const Config& config, std::size_t size);
// Sequential write + fdatasync of config.disk_bytes under config.disk_dir (min(repetitions, 3) times).
DiskRow measure_disk_write(const Config& config);
// One such write: its MB/s. Throws std::runtime_error when the directory cannot be written.
double disk_write_megabytes_per_second(const Config& config);

// Durable mode, shmq alone (queues under config.disk_dir): a lone producer filling a queue of
// config.durable_fill_bytes, alternated config.durable_rounds times with the disk reference (the
// median of the fill / disk ratios is the result), and sync() latency; compared with the
// throughput rows of the same run.
DurableResults measure_durable(const Config& config, const std::vector<ThroughputRow>& throughput);

// Shared by the suites: a row's status from how its pair of processes ended.
// A peer that breaks at run time is unavailable; shmq or a reference that breaks fails the run,
// and so does any sequence error.
RowStatus status_of(const PairResult& pair, bool is_peer);
// Sets a throughput row's msg/s and MB/s from the rates of its repetitions.
void set_rates(ThroughputRow& row, const std::vector<double>& messages_per_second);
// Fills the percentiles and the plot curve of a latency row from its histogram.
void fill_percentiles(LatencyRow& row, const Histogram& histogram);

}  // namespace bench
