// shmq-logd's main loop: discover queues in the spool, read them, merge their records by time
// into one output, sync, record, release; rotate; drain and remove sources whose process ended.
//
// Each turn of the loop is one pass of named steps (run()). Exactly once (docs/LOGGING.md): a
// record is released from its queue only after the output holding it is fdatasynced and the state
// file records the output's length and the source's next sequence; a restart cuts the output back
// to that length and skips what the state says was shipped.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "files.hpp"
#include "options.hpp"
#include "output_file.hpp"
#include "rotated_files.hpp"
#include "source.hpp"
#include "spool_watch.hpp"
#include "state_file.hpp"
#include "status.hpp"

namespace shmq::logd {

class Shipper {
 public:
  // Takes the locks, recovers the output and state. Throws FileError / shmq::Error.
  explicit Shipper(ShipperOptions options);
  ~Shipper();
  // Runs until `stop` is set (SIGTERM, SIGINT) or, with exit_when_drained, no source is left;
  // then syncs what was written and records it. Throws FileError when the output cannot be
  // written or synced (nothing unsynced is ever recorded as shipped).
  void run(const std::atomic<bool>& stop);

 private:
  void recover_output();
  void discover();
  void admit(const std::string& name);
  bool finish_leaving(const std::string& name, const SourceState& saved);
  void set_aside(const std::string& name, const std::string& cause);
  std::size_t read_sources(std::uint64_t now);
  std::size_t merge();
  void report_drops(Source& source);
  void close_finished_sources(std::uint64_t now);
  bool commit_due(std::uint64_t now) const;
  void commit(std::uint64_t now);
  void leave_closed_sources();
  void remove_source_files(const std::string& name);
  void rotate_if_due(std::uint64_t now);
  void publish_status(std::uint64_t now, bool force);
  void write_own_line(const std::string& text);

  ShipperOptions options_;
  std::filesystem::path state_path_;
  FileLock spool_lock_;
  FileLock output_lock_;
  ShipperState state_;
  std::unique_ptr<OutputFile> output_;
  std::unique_ptr<RotatedFiles> rotated_;
  std::unique_ptr<SpoolWatch> watch_;
  std::map<std::string, std::unique_ptr<Source>> sources_;
  std::set<std::string> refused_;  // names reported once and skipped or set aside
  std::vector<std::string> refused_reasons_;
  std::uint64_t last_sync_ns_ = 0;
  std::uint64_t last_drop_check_ns_ = 0;
  std::uint64_t last_status_ns_ = 0;
  std::uint64_t written_since_sync_ = 0;
  std::uint64_t lines_shipped_ = 0;
  bool scanned_ = false;
};

}  // namespace shmq::logd
