// How the tool talks to stderr: its spdlog logger, error reports that name the file, exit codes.
#pragma once

#include <exception>
#include <string>

#include <spdlog/logger.h>

#include "shmq/error.hpp"
#include "shmq_sample/exit_codes.hpp"

namespace shmq::tool {

// The project's exit codes (shmq_sample/exit_codes.hpp), shared with the sample programs.
using shmq_sample::kExitDamaged;
using shmq_sample::kExitFailed;
using shmq_sample::kExitOk;
using shmq_sample::kExitUsage;

// The tool's logger ("shmq-tool", stderr, lines like "shmq: error: ..."). The library's own logger
// ("shmq") is silenced unless `verbose`: the tool reports the library's errors itself, once.
void setup_logging(bool verbose);
spdlog::logger& log();

// Logs `e` as an error and returns the exit code for it: kExitFailed for anything but a damaged
// queue (shmq::ErrorCode::damaged_file or peer_broke_protocol), which is kExitDamaged.
int report(const std::exception& e);

// The cause of a shmq::Error with its errno text: its message without the "path: " and the " [code]".
std::string cause_of(const shmq::Error& e);

}  // namespace shmq::tool
