// SIGTERM and SIGINT as a flag the bridge's loops check between steps (the handler of the sample
// programs, shmq_sample/cli.hpp): the in-flight window is finished and what was acknowledged is
// released before the bridge exits.
#pragma once

#include <chrono>

namespace shmq_bridge {

// True once SIGTERM or SIGINT arrived.
bool stop_requested() noexcept;
// Sleeps up to `duration` in short slices; returns early (false) when a stop was requested.
bool sleep_unless_stopped(std::chrono::milliseconds duration);

}  // namespace shmq_bridge
