// shmq-bridge-bench: `shmq-bridge out` against the ceiling it should reach (a minimal libnats
// program publishing the same messages with Nats-Msg-Id and the same async window to a
// file-storage stream), and the end-to-end latency queue A -> out -> JetStream -> in -> queue B at
// several offered rates, start-up reported apart from the steady state. Runs the bridges
// in-process (their library entry points) against a nats-server given by --server (start one
// with `nats-server -js -a 127.0.0.1 -p 4222 -sd /tmp/js`).
// Rounds alternate reference and bridge; each row reports the median ratio of a round.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nats/nats.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <shmq/shmq.hpp>

#include "in_bridge.hpp"
#include "out_bridge.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace shmq_bridge;

struct Settings {
  std::string server = "nats://127.0.0.1:4222";
  std::uint64_t count = 200'000;
  std::vector<std::size_t> sizes{64, 1024};
  std::size_t window = 4096;
  int rounds = 3;
  std::vector<std::uint64_t> rates{1'000, 5'000, 10'000};
  double latency_seconds = 10;  // measured, after the warm-up
  double warmup_seconds = 2;    // start-up: connecting, creating the stream and the consumer
};

std::string unique_name(const char* what) {
  static int n = 0;
  return std::string(what) + "_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
}

void delete_stream(jsCtx* js, const std::string& stream) { js_DeleteStream(js, stream.c_str(), nullptr, nullptr); }

// The ceiling: the same messages, ids and window, straight from a loop.
double reference_rate(const Settings& s, std::size_t size, jsCtx* js) {
  const std::string stream = unique_name("REF");
  const std::string subject = stream + ".data";
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = stream.c_str();
  const char* subjects[] = {subject.c_str()};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  jsStreamInfo* info = nullptr;
  if (js_AddStream(&info, js, &config, nullptr, nullptr) != NATS_OK) throw std::runtime_error("js_AddStream failed");
  jsStreamInfo_Destroy(info);
  const std::vector<char> payload(size, 'x');
  const auto start = Clock::now();
  for (std::uint64_t seq = 0; seq < s.count; ++seq) {
    natsMsg* msg = nullptr;
    natsMsg_Create(&msg, subject.c_str(), nullptr, payload.data(), static_cast<int>(size));
    natsMsgHeader_Set(msg, "Nats-Msg-Id", ("0123456789abcdef-" + std::to_string(seq)).c_str());
    if (js_PublishMsgAsync(js, &msg, nullptr) != NATS_OK) throw std::runtime_error("publish failed");
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = 60'000;
  if (js_PublishAsyncComplete(js, &wait) != NATS_OK) throw std::runtime_error("acks missing");
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  delete_stream(js, stream);
  return static_cast<double>(s.count) / seconds;
}

// The bridge: a producer thread feeds queue A, `out` publishes it with --count.
double bridge_rate(const Settings& s, std::size_t size, jsCtx* js) {
  const std::string stream = unique_name("OUT");
  const std::string queue = "/dev/shm/shmq-bridge-bench-" + stream;
  shmq::create_queue(queue, {.capacity = 16 << 20});
  std::thread producer([&] {
    shmq::Producer p = shmq::Producer::open(queue);
    const std::vector<std::byte> payload(size, std::byte{'x'});
    for (std::uint64_t i = 0; i < s.count; ++i) (void)p.send(payload);
  });
  OutOptions out;
  out.queue = queue;
  out.stream = {.name = stream, .subject = stream + ".data", .create = true, .duplicate_window = {}};
  out.count = s.count;
  out.window = s.window;
  NatsConfig nats;
  nats.servers = {s.server};
  const auto start = Clock::now();
  run_out(out, nats);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  producer.join();
  shmq::remove_queue(queue, {.force = true});
  delete_stream(js, stream);
  return static_cast<double>(s.count) / seconds;
}

double percentile(std::vector<std::int64_t> values_ns, double q) {
  if (values_ns.empty()) return 0;
  std::sort(values_ns.begin(), values_ns.end());
  const auto index = static_cast<std::size_t>(q * static_cast<double>(values_ns.size() - 1));
  return static_cast<double>(values_ns[index]) / 1e3;
}

// Queue A's publish to queue B's delivery, at `rate` messages per second, through both bridges.
// The first warmup_seconds are start-up (the bridges connect, out creates the stream, in its
// consumer) and reported apart from the steady state that follows.
void latency(const Settings& s, std::uint64_t rate, jsCtx* js) {
  const std::string stream = unique_name("LAT");
  const std::string a = "/dev/shm/shmq-bridge-bench-" + stream + "-a";
  const std::string b = "/dev/shm/shmq-bridge-bench-" + stream + "-b";
  const auto warmup = static_cast<std::uint64_t>(s.warmup_seconds * static_cast<double>(rate));
  const std::uint64_t count = warmup + static_cast<std::uint64_t>(s.latency_seconds * static_cast<double>(rate));
  shmq::create_queue(a, {.capacity = 4 << 20});
  shmq::create_queue(b, {.capacity = 4 << 20});
  NatsConfig nats;
  nats.servers = {s.server};
  OutOptions out;
  out.queue = a;
  out.stream = {.name = stream, .subject = stream + ".data", .create = true, .duplicate_window = {}};
  out.count = count;
  out.window = s.window;
  InOptions in;
  in.queue = b;
  in.stream = stream;
  in.consumer = "bench";
  in.count = count;
  std::thread out_thread([&] { run_out(out, nats); });
  std::thread in_thread([&] { run_in(in, nats); });
  std::vector<std::int64_t> latencies_ns(count);
  std::thread consumer([&] {
    shmq::Consumer c = shmq::Consumer::open(b, {.wait = {.return_on_peer_gone = false}});
    for (std::uint64_t received = 0; received < count;) {
      shmq::Result<shmq::Message> m = c.receive();
      if (!m) continue;
      std::int64_t sent = 0;
      std::memcpy(&sent, m->bytes.data(), sizeof sent);
      latencies_ns[m->sequence] = Clock::now().time_since_epoch().count() - sent;
      ++received;
      c.release();
    }
  });
  {
    shmq::Producer p = shmq::Producer::open(a);
    std::vector<std::byte> payload(64);
    const auto period = std::chrono::nanoseconds(1'000'000'000 / rate);
    auto next = Clock::now();
    for (std::uint64_t i = 0; i < count; ++i) {
      std::this_thread::sleep_until(next);  // pacing the offered load
      next += period;
      const std::int64_t now = Clock::now().time_since_epoch().count();
      std::memcpy(payload.data(), &now, sizeof now);
      (void)p.send(payload);
    }
    consumer.join();
  }
  out_thread.join();
  in_thread.join();
  const std::vector<std::int64_t> startup(latencies_ns.begin(),
                                          latencies_ns.begin() + static_cast<std::ptrdiff_t>(warmup));
  const std::vector<std::int64_t> steady(latencies_ns.begin() + static_cast<std::ptrdiff_t>(warmup),
                                         latencies_ns.end());
  std::printf("| %llu msg/s | %.0f us | %.0f us | %.0f us | %.0f us | %.0f us | %.0f |\n",
              static_cast<unsigned long long>(rate), percentile(startup, 0.99), percentile(steady, 0.5),
              percentile(steady, 0.99), percentile(steady, 0.999), percentile(steady, 1.0),
              static_cast<double>(steady.size()));
  std::fflush(stdout);
  shmq::remove_queue(a, {.force = true});
  shmq::remove_queue(b, {.force = true});
  std::filesystem::remove(b + ".shmq-bridge-in");
  delete_stream(js, stream);
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{"shmq-bridge out against a minimal libnats async publisher, and end-to-end latency"};
  app.add_option("--server", s.server, "A nats-server with JetStream")->capture_default_str();
  app.add_option("--count", s.count, "Messages per throughput run")->capture_default_str();
  app.add_option("--sizes", s.sizes, "Message sizes")->delimiter(',');
  app.add_option("--window", s.window, "Async publish window of both")->capture_default_str();
  app.add_option("--rounds", s.rounds, "Alternating rounds")->capture_default_str();
  app.add_option("--rates", s.rates, "Offered loads of the latency runs (msg/s)")->delimiter(',');
  app.add_option("--latency-seconds", s.latency_seconds, "Steady-state seconds per latency run")->capture_default_str();
  app.add_option("--warmup-seconds", s.warmup_seconds, "Start-up seconds, reported apart")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.MaxPending = static_cast<int64_t>(s.window);
  if (natsConnection_ConnectTo(&connection, s.server.c_str()) != NATS_OK ||
      natsConnection_JetStream(&js, connection, &options) != NATS_OK) {
    std::fprintf(stderr, "shmq-bridge-bench: cannot reach JetStream at %s\n", s.server.c_str());
    return 2;
  }
  std::printf("| size | reference msg/s | bridge out msg/s | ratio (median of %d rounds) |\n|---|---|---|---|\n",
              s.rounds);
  for (const std::size_t size : s.sizes) {
    std::vector<double> ratios;
    double reference = 0, bridge = 0;
    for (int r = 0; r < s.rounds; ++r) {
      reference = reference_rate(s, size, js);
      bridge = bridge_rate(s, size, js);
      ratios.push_back(bridge / reference);
    }
    std::sort(ratios.begin(), ratios.end());
    std::printf("| %zu B | %.0f | %.0f | %.2f |\n", size, reference, bridge, ratios[ratios.size() / 2]);
    std::fflush(stdout);
  }
  std::printf(
      "\n| 64 B, offered | start-up p99 (first %.0f s) | steady p50 | p99 | p99.9 | max | messages |\n"
      "|---|---|---|---|---|---|---|\n",
      s.warmup_seconds);
  for (const std::uint64_t rate : s.rates) latency(s, rate, js);
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  nats_Close();
  return 0;
}
