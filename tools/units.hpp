// Numbers as the tool reads and prints them: file modes, durations, rates, fill bars (sizes and
// counts come from samples_common).
// Sizes on the command line are parsed by CLI11 (CLI::AsSizeValue, attached to the option).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "shmq_sample/units.hpp"

namespace shmq::tool {

// Sizes and counts: one formatter for the whole project.
using shmq_sample::format_count;
using shmq_sample::format_size;

// An octal file mode such as "0600" or "640": only octal digits, at most 07777.
std::optional<mode_t> parse_mode(std::string_view text);

// "1.25 s", "340 ms", "12 us".
std::string format_duration(std::chrono::nanoseconds d);

// "1.2 M msg/s", "830 msg/s" and "12.3 MB/s" (decimal megabytes, as throughput usually is).
std::string format_message_rate(double per_second);
std::string format_byte_rate(double bytes_per_second);

// "[#####...............]" for fraction in [0, 1] (clamped), `width` cells between the brackets.
std::string fill_bar(double fraction, int width = 20);

// A timestamp in UTC with milliseconds: "2024-05-01T12:00:00.123Z".
std::string format_utc(std::uint64_t unix_ns);

}  // namespace shmq::tool
