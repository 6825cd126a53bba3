// How the tool talks to stderr: its spdlog logger, error reports that name the file, exit codes.
#pragma once

#include <exception>
#include <string>

#include <spdlog/logger.h>

#include "shmq/error.hpp"

namespace shmq::tool {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitDamaged = 1;  // verify: the queue is damaged; remove: refused (a peer is attached)
inline constexpr int kExitFailed = 2;   // not a queue file, unreadable, or any other failure
inline constexpr int kExitUsage = 64;   // bad command line (EX_USAGE)

// The tool's logger ("shmq-tool", stderr, lines like "shmq: error: ..."). The library's own logger
// ("shmq") is silenced unless `verbose`: the tool reports the library's errors itself, once.
void setup_logging(bool verbose);
spdlog::logger& log();

// Logs `e` as an error and returns the exit code for it: kExitFailed for anything but a damaged
// queue (shmq::ErrorCode::damaged or corrupt), which is kExitDamaged.
int report(const std::exception& e);

// The cause of a shmq::Error with its errno text: its message without the "path: " and the " [code]".
std::string cause_of(const shmq::Error& e);

}  // namespace shmq::tool
