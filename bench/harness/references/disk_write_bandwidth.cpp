// Reference: sequential write bandwidth of the disk under config.disk_dir, the ceiling of a durable
// queue: write(2) of 1 MiB blocks into a new file, then one fdatasync, timed together.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "../suites.hpp"
#include "../transports/fd_io.hpp"

namespace bench {

namespace {

double write_and_sync_seconds(const std::filesystem::path& file, std::size_t bytes) {
  const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error(errno_text("open"));
  std::vector<std::byte> block(std::size_t{1} << 20, std::byte{0x5a});
  const std::uint64_t start = now_ns();
  try {
    for (std::size_t written = 0; written < bytes; written += block.size()) write_all(fd, block);
    if (fdatasync(fd) != 0) throw std::runtime_error(errno_text("fdatasync"));
  } catch (...) {
    close(fd);
    throw;
  }
  const std::uint64_t elapsed = now_ns() - start;
  close(fd);
  return static_cast<double>(elapsed) / 1e9;
}

std::filesystem::path reference_file(const Config& config) {
  return config.disk_dir / ("shmq-bench-disk-" + std::to_string(getpid()) + ".tmp");
}

}  // namespace

double disk_write_megabytes_per_second(const Config& config) {
  const auto file = reference_file(config);
  std::error_code ignored;
  try {
    const double seconds = write_and_sync_seconds(file, config.disk_bytes);
    std::filesystem::remove(file, ignored);
    return static_cast<double>(config.disk_bytes) / 1e6 / seconds;
  } catch (...) {
    std::filesystem::remove(file, ignored);
    throw;
  }
}

DiskRow measure_disk_write(const Config& config) {
  DiskRow row;
  std::error_code ignored;
  row.directory = std::filesystem::absolute(config.disk_dir, ignored).string();
  row.bytes = config.disk_bytes;
  try {
    std::vector<double> rates;
    for (int rep = 0; rep < std::max(1, std::min(config.repetitions, 3)); ++rep) {
      rates.push_back(disk_write_megabytes_per_second(config));
    }
    row.megabytes_per_second = spread_of(rates);
  } catch (const std::exception& e) {
    row.status = {RowState::unavailable, e.what()};
  }
  return row;
}

}  // namespace bench
