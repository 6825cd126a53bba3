// shmq_torture: drives the library in several processes the way the world does (random
// operations of both sides, kill -9, SIGSTOP, failpoints, EIO, power loss, repair, the tools) and
// checks the queue's promises after every step. One seed replays a run's whole schedule.
//
//   shmq_torture [--seed S] [--scenario NAME] [--steps N] [--replay] [--keep DIR]
//   shmq_torture --minutes M [--seed S]        runs seeds S, S+1, ... for M minutes
//   shmq_torture --seeds A,B,C --every-scenario --new-seed --seconds T
//   (--no-failpoints: faults from kill -9, SIGSTOP, EIO and the disk model only)
//
// docs/TESTING.md says what each invariant means and how to replay a failure.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <csignal>
#include <unistd.h>

#include "checker.hpp"
#include "run.hpp"
#include "tally.hpp"
#include "scenarios.hpp"

namespace shmq::torture {
namespace {

struct Cli {
  std::optional<std::uint64_t> seed;
  std::vector<std::uint64_t> seeds;
  bool new_seed = false;
  std::optional<std::uint64_t> steps;
  double seconds = 0;
  bool replay = false;
  bool verbose = false;
  bool failpoints = true;
  bool every_scenario = false;  // each listed seed runs every scenario
  std::string scenario;
  std::filesystem::path keep = "shmq-torture-failures";
  std::filesystem::path dir = "/dev/shm";
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "shmq_torture: %s\n"
               "usage: shmq_torture [--seed S] [--scenario NAME] [--steps N] [--replay] [--keep DIR] [--dir DIR]\n"
               "       shmq_torture [--seed S | --seeds A,B,...] [--new-seed] (--minutes M | --seconds T)\n"
               "scenarios: mixed kill_loop staged_power_loss samples restart (default: chosen by the seed)\n"
               "--no-failpoints: faults from kill -9, SIGSTOP, EIO and the disk model only\n"
               "--every-scenario: each seed of --seeds runs every scenario\n",
               why);
  std::exit(64);
}

Cli parse(int argc, char** argv) {
  Cli cli;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--seed")
      cli.seed = std::stoull(value(), nullptr, 0);
    else if (a == "--seeds") {
      std::stringstream list(value());
      std::string s;
      while (std::getline(list, s, ',')) cli.seeds.push_back(std::stoull(s, nullptr, 0));
    } else if (a == "--new-seed")
      cli.new_seed = true;
    else if (a == "--steps")
      cli.steps = std::stoull(value());
    else if (a == "--minutes")
      cli.seconds = std::stod(value()) * 60;
    else if (a == "--seconds")
      cli.seconds = std::stod(value());
    else if (a == "--replay")
      cli.replay = cli.verbose = true;
    else if (a == "--verbose")
      cli.verbose = true;
    else if (a == "--no-failpoints")
      cli.failpoints = false;
    else if (a == "--every-scenario")
      cli.every_scenario = true;
    else if (a == "--scenario")
      cli.scenario = value();
    else if (a == "--keep")
      cli.keep = value();
    else if (a == "--dir")
      cli.dir = value();
    else
      usage(("unknown argument " + a).c_str());
  }
  if (!cli.scenario.empty()) {
    bool known = false;
    for (const std::string& name : scenario_names()) known = known || name == cli.scenario;
    if (!known) usage(("no scenario " + cli.scenario).c_str());
  }
  return cli;
}

std::uint64_t random_seed() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device() ^
         static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

// The scenario of a seed, unless one was named: half the seeds run the mixed one.
std::string scenario_of(std::uint64_t seed, const std::string& named) {
  if (!named.empty()) return named;
  Rng rng(seed ^ 0x5CE7A210ULL);
  return scenario_names()[rng.weighted({45, 20, 15, 10, 10})];
}

std::uint64_t default_steps(const std::string& scenario) {
  if (scenario == "kill_loop") return 300;
  if (scenario == "staged_power_loss") return 40;
  if (scenario == "samples") return 40;
  if (scenario == "restart") return 40;
  return 400;
}

std::string replay_command(std::uint64_t seed, const std::string& scenario, std::uint64_t steps) {
  return "shmq_torture --seed " + std::to_string(seed) + " --scenario " + scenario + " --steps " +
         std::to_string(steps) + " --replay";
}

// Runs one seed; returns false after printing the failure.
bool run_one(const Cli& cli, std::uint64_t seed, const std::string& named) {
  const std::string scenario = scenario_of(seed, named);
  RunOptions options;
  options.seed = seed;
  options.steps = cli.steps.value_or(default_steps(scenario));
  options.dir = cli.dir;
  options.verbose = cli.verbose;
  options.failpoints = cli.failpoints;
  const auto start = std::chrono::steady_clock::now();
  Run run(options, scenario);
  std::printf("seed %llu: %s, %llu steps\n", static_cast<unsigned long long>(seed), scenario.c_str(),
              static_cast<unsigned long long>(options.steps));
  std::fflush(stdout);
  try {
    run_scenario(scenario, run);
  } catch (const Violation& v) {
    const std::filesystem::path keep = cli.keep / ("seed-" + std::to_string(seed));
    run.history().note("FAILED: " + v.invariant + " : " + v.details);
    run.keep_artifacts(keep);
    std::printf("before it: %s\n", tally().describe().c_str());
    std::printf("seed %llu step %llu: %s : %s\n", static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(run.history().step()), v.invariant.c_str(), v.details.c_str());
    std::printf("  scenario %s; queue file and history kept in %s\n  replay: %s\n", scenario.c_str(),
                std::filesystem::absolute(keep).c_str(), replay_command(seed, scenario, options.steps).c_str());
    std::fflush(stdout);
    return false;
  }
  ++tally().runs;
  tally().deliveries += run.checker().deliveries();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::printf("seed %llu: ok (%llu deliveries checked, %lld ms)\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(run.checker().deliveries()), static_cast<long long>(ms.count()));
  std::fflush(stdout);
  return true;
}

}  // namespace
}  // namespace shmq::torture

int main(int argc, char** argv) {
  using namespace shmq::torture;
  const Cli cli = parse(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::uint64_t> seeds = cli.seeds;
  if (cli.seed) seeds.push_back(*cli.seed);
  if (cli.new_seed || seeds.empty()) {
    const std::uint64_t s = random_seed();
    std::printf("new seed %llu\n", static_cast<unsigned long long>(s));
    seeds.push_back(s);
  }
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  std::uint64_t runs = 0;
  // Each listed seed once; with a time budget, then the seeds after the last one until it is spent.
  for (std::size_t i = 0;; ++i) {
    std::uint64_t seed = 0;
    if (i < seeds.size())
      seed = seeds[i];
    else if (cli.seconds > 0 && elapsed() < cli.seconds)
      seed = seeds.back() + (i - seeds.size() + 1);
    else
      break;
    if (i < cli.seeds.size() && cli.every_scenario && cli.scenario.empty()) {
      for (const std::string& name : scenario_names()) {
        if (!run_one(cli, seed, name)) return 1;
        ++runs;
      }
      continue;
    }
    if (!run_one(cli, seed, cli.scenario)) return 1;
    ++runs;
  }
  std::printf("%llu runs clean in %.0f s\n", static_cast<unsigned long long>(runs), elapsed());
  std::printf("%s\n", tally().describe().c_str());
  return 0;
}
