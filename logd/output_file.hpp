// The log file the shipper appends to: buffered appends, fdatasync, and rotation by rename.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace shmq::logd {

class OutputFile {
 public:
  // Opens `path` for appending, creating it if missing. With `recorded_length` (the state file's
  // word for what was synced), a longer file is cut back to it (lines written after the last
  // state were not recorded as shipped: they will be shipped again). A shorter file is kept as
  // it is and reported (someone cut it): `lost_bytes()` says how much.
  OutputFile(std::filesystem::path path, std::optional<std::uint64_t> recorded_length);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Appends `line` and a newline (buffered: nothing is on disk before sync()).
  void append_line(std::string_view line);
  // Writes what is buffered and fdatasyncs the file. Throws FileError (a failed sync is fatal:
  // the shipper stops without recording anything it could not sync).
  void sync();
  std::uint64_t length() const noexcept { return synced_ + buffer_.size(); }
  std::uint64_t synced_length() const noexcept { return synced_; }
  std::uint64_t lost_bytes() const noexcept { return lost_; }

  // After sync(): renames the file to `rotated` (never replacing anything), syncs the directory,
  // and starts a new empty file at the old name (created, directory synced).
  void rotate_to(const std::filesystem::path& rotated);

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  void open_fresh();
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t synced_ = 0;
  std::uint64_t lost_ = 0;
  std::string buffer_;
};

}  // namespace shmq::logd
