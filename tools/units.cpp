#include "units.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace shmq::tool {

std::optional<mode_t> parse_mode(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    value = value * 8 + static_cast<unsigned>(c - '0');
  }
  if (value > 07777) return std::nullopt;
  return static_cast<mode_t>(value);
}

std::string format_duration(std::chrono::nanoseconds d) {
  const double ns = static_cast<double>(d.count());
  if (ns >= 1e9) return fmt::format("{:.2f} s", ns / 1e9);
  if (ns >= 1e6) return fmt::format("{:.0f} ms", ns / 1e6);
  if (ns >= 1e3) return fmt::format("{:.0f} us", ns / 1e3);
  return fmt::format("{:.0f} ns", ns);
}

std::string format_message_rate(double per_second) { return format_count(per_second) + " msg/s"; }

std::string format_byte_rate(double bytes_per_second) { return fmt::format("{:.2f} MB/s", bytes_per_second / 1e6); }

std::string fill_bar(double fraction, int width) {
  const double f = std::isfinite(fraction) ? std::clamp(fraction, 0.0, 1.0) : 0.0;
  int full = static_cast<int>(std::lround(f * width));
  if (full == 0 && f > 0.0) full = 1;  // a non-empty queue never looks empty
  std::string bar = "[";
  bar.append(static_cast<std::size_t>(full), '#');
  bar.append(static_cast<std::size_t>(width - full), '.');
  bar += ']';
  return bar;
}

std::string format_utc(std::uint64_t unix_ns) {
  const auto seconds = static_cast<std::time_t>(unix_ns / 1'000'000'000u);
  std::tm tm{};
  if (::gmtime_r(&seconds, &tm) == nullptr) return fmt::format("{} ns since the epoch", unix_ns);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", text, (unix_ns / 1'000'000u) % 1000u);
}

}  // namespace shmq::tool
