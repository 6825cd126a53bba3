// The subcommands. Each add_* registers one on the app (its options live in the closure) and
// returns what main() runs when the command line chose it. The run function returns the exit code
// (diagnostics.hpp) and may throw: main() reports the exception, naming the file.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace shmq::tool {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_create(CLI::App& app);
Command add_stat(CLI::App& app);
Command add_watch(CLI::App& app);
Command add_verify(CLI::App& app);
Command add_dump(CLI::App& app);
Command add_remove(CLI::App& app);
Command add_repair(CLI::App& app);

// The arguments of every subcommand that works on an existing queue.
struct QueueArgs {
  std::string path;
  bool any_owner = false;
};

inline void add_queue_args(CLI::App& sub, QueueArgs& args) {
  sub.add_option("path", args.path, "The queue file")->required();
  sub.add_flag("--any-owner", args.any_owner,
               "Accept a queue file owned by another user (by default only your own files are opened)");
}

}  // namespace shmq::tool
