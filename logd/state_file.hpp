// The shipper's state file: what is on disk in the output, and where each source stands.
//
// Written after every fdatasync of the output and before any record is released from its queue
// (replace_file: temporary, fsync, rename, directory fsync). On restart the output is cut back to
// `output_length` and each source resumes after `next_sequence`, so no line is lost or repeated
// (docs/LOGGING.md, "Exactly once").
//
//   shmq-logd-state 1
//   output_length 123456
//   output_started_unix_s 1764000000
//   next_rotation 3
//   source app.4242.1764000000000000000.q 1500 12 0
//   end
//
// A source line: queue name, next sequence to ship, dropped records already reported, and what is
// left to do with it: 0 ship it, 1 remove it (its end line is in the output), 2 set it aside (the
// line saying why is in the output).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace shmq::logd {

enum class Leaving : std::uint8_t { no = 0, remove = 1, set_aside = 2 };

struct SourceState {
  std::uint64_t next_sequence = 0;
  std::uint64_t drops_reported = 0;
  Leaving leaving = Leaving::no;
};

struct ShipperState {
  std::uint64_t output_length = 0;
  std::uint64_t output_started_unix_s = 0;  // when the current output file was started (age rotation)
  std::uint64_t next_rotation = 1;          // the number the next rotated file gets
  std::map<std::string, SourceState> sources;
};

// The state file that goes with an output file: `<dir>/.<name>.shmq-logd-state`.
std::filesystem::path state_path_for(const std::filesystem::path& output);

std::string format_state(const ShipperState& state);
// Throws FileError naming `path` when the text is not a complete state file.
ShipperState parse_state(const std::string& text, const std::filesystem::path& path);

std::optional<ShipperState> load_state(const std::filesystem::path& path);  // nullopt: no file
void save_state(const std::filesystem::path& path, const ShipperState& state);

}  // namespace shmq::logd
