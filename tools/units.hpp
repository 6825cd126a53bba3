// Numbers as the tool reads and prints them: byte sizes, file modes, durations, rates, fill bars.
// Sizes on the command line are parsed by CLI11 (CLI::AsSizeValue, attached to the option).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace shmq::tool {

// "16 MiB", "1.5 KiB", "512 B": binary units, at most one decimal, exact when it divides evenly.
std::string format_size(std::uint64_t bytes);

// An octal file mode such as "0600" or "640": only octal digits, at most 07777.
std::optional<mode_t> parse_mode(std::string_view text);

// "1.25 s", "340 ms", "12 us".
std::string format_duration(std::chrono::nanoseconds d);

// "1.2M msg/s", "830 msg/s" and "12.3 MB/s" (decimal megabytes, as throughput usually is).
std::string format_message_rate(double per_second);
std::string format_byte_rate(double bytes_per_second);

// "[#####...............]" for fraction in [0, 1] (clamped), `width` cells between the brackets.
std::string fill_bar(double fraction, int width = 20);

// A timestamp in UTC with milliseconds: "2024-05-01T12:00:00.123Z".
std::string format_utc(std::uint64_t unix_ns);

}  // namespace shmq::tool
