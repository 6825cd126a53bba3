// What the shipper is doing, for people (`shmq-logd --stat`) and monitoring (`--json-stat`).
//
// The running shipper rewrites `<spool>/.shmq-logd.status` (JSON) every status interval;
// `--stat` and `--json-stat` read that file, so they work without disturbing the shipper.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace shmq::logd {

struct SourceRow {
  std::string name;
  std::string state;          // active, ended, failed
  std::uint64_t shipped = 0;  // records below this sequence are in the output
  std::uint64_t published = 0;
  std::uint64_t pending = 0;  // read, held back by the merge
  std::uint64_t drops = 0;    // dropped by the application (its drop counter)
};

struct StatusReport {
  std::uint64_t time_unix_ns = 0;
  std::uint64_t pid = 0;
  std::string output;
  std::uint64_t output_length = 0;
  std::uint64_t lines_shipped = 0;  // by this run of the shipper
  std::vector<SourceRow> sources;
  std::vector<std::string> set_aside;  // names moved to .set-aside/ or skipped, with the cause
};

std::filesystem::path status_path_for(const std::filesystem::path& spool);
std::string status_json(const StatusReport& report);  // one line
std::string status_text(const StatusReport& report);  // a table
// Parses what status_json wrote; throws std::runtime_error naming `path` when it cannot.
StatusReport parse_status(const std::string& json, const std::filesystem::path& path);

}  // namespace shmq::logd
