// Sizes and counts as the programs, the `shmq` tool and the benchmark read and print them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shmq_sample {

// "4096", "64KiB", "1MiB", "2GiB": binary multiples only (K, Ki and KiB all mean 1024, as in dd
// and truncate; a queue's capacity is a power of two). Decimal KB/MB are refused, not guessed.
std::optional<std::uint64_t> parse_size(std::string_view text);

// "16 MiB", "1.5 KiB", "512 B": binary units, at most one decimal, exact when it divides evenly.
std::string format_size(std::uint64_t bytes);

// "12.3 M", "950 k", "42": three significant digits with a decimal (SI) prefix, for counts and
// rates ("12.3 M msg/s").
std::string format_count(double value);

}  // namespace shmq_sample
