#include "shmq_sample/units.hpp"

#include <cctype>
#include <cstdio>
#include <limits>

namespace shmq_sample {

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t value = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (i == 0) return std::nullopt;
  std::string suffix(text.substr(i));
  for (char& c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  unsigned shift = 0;
  if (suffix.empty() || suffix == "b") {
    shift = 0;
  } else if (suffix == "k" || suffix == "ki" || suffix == "kib") {
    shift = 10;
  } else if (suffix == "m" || suffix == "mi" || suffix == "mib") {
    shift = 20;
  } else if (suffix == "g" || suffix == "gi" || suffix == "gib") {
    shift = 30;
  } else if (suffix == "t" || suffix == "ti" || suffix == "tib") {
    shift = 40;
  } else {
    return std::nullopt;
  }
  if (value > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
  return value << shift;
}

std::string format_size(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  for (std::uint64_t whole = bytes; whole >= 1024 && unit < 6; whole /= 1024) ++unit;
  const std::uint64_t scale = std::uint64_t{1} << (10 * unit);
  char text[32];
  if (bytes % scale == 0) {
    std::snprintf(text, sizeof text, "%llu %s", static_cast<unsigned long long>(bytes / scale), kUnits[unit]);
  } else {
    std::snprintf(text, sizeof text, "%.1f %s", static_cast<double>(bytes) / static_cast<double>(scale), kUnits[unit]);
  }
  return text;
}

std::string format_count(double value) {
  char text[32];
  if (value >= 1e9) {
    std::snprintf(text, sizeof text, "%.3g G", value / 1e9);
  } else if (value >= 1e6) {
    std::snprintf(text, sizeof text, "%.3g M", value / 1e6);
  } else if (value >= 1e3) {
    std::snprintf(text, sizeof text, "%.3g k", value / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.3g", value);
  }
  return text;
}

}  // namespace shmq_sample
