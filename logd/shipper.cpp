#include "shipper.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <queue>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shmq/log/drop_counter.hpp"
#include "shmq/log/spool.hpp"

namespace shmq::logd {
namespace {

constexpr std::uint64_t kSyncBytes = 8 << 20;             // sync at least this often while lines flow
constexpr std::uint64_t kDropCheckEveryNs = 100'000'000;  // read the drop counters this often
constexpr const char* kOwnPrefix = "shmq-logd: ";

std::uint64_t now_unix_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::uint64_t ms_to_ns(std::chrono::milliseconds ms) { return static_cast<std::uint64_t>(ms.count()) * 1'000'000; }

std::string iso_time(std::uint64_t unix_ns) {
  const auto seconds = static_cast<time_t>(unix_ns / 1'000'000'000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(unix_ns / 1'000'000 % 1000));
  return text;
}

}  // namespace

Shipper::Shipper(ShipperOptions options)
    : options_(std::move(options)),
      state_path_(state_path_for(options_.output)),
      spool_lock_(options_.spool / ".shmq-logd.lock"),
      output_lock_(options_.output.parent_path() / ("." + options_.output.filename().string() + ".shmq-logd-lock")) {
  std::filesystem::create_directories(options_.spool / std::string(log::kSetAsideDir));
  recover_output();
  rotated_ = std::make_unique<RotatedFiles>(options_.output, options_.keep, options_.compress, options_.zstd_level);
  rotated_->tidy();  // rotated files a crash left uncompressed
  watch_ = std::make_unique<SpoolWatch>(options_.spool);
}

Shipper::~Shipper() = default;

// Brings the output back to what the state file says is shipped (docs/LOGGING.md, "Restart").
void Shipper::recover_output() {
  const std::optional<ShipperState> saved = load_state(state_path_);
  const std::uint64_t now_s = now_unix_ns() / 1'000'000'000;
  if (!saved) {
    output_ = std::make_unique<OutputFile>(options_.output, std::nullopt);  // append to what is there
    state_.output_started_unix_s = now_s;
  } else {
    state_ = *saved;
    if (std::filesystem::exists(rotated_path(options_.output, state_.next_rotation))) {
      // A rotation renamed the output but did not record it: the file at the name is the new one,
      // and nothing was written into it before the record.
      output_ = std::make_unique<OutputFile>(options_.output, 0);
      ++state_.next_rotation;
      state_.output_started_unix_s = now_s;
    } else {
      output_ = std::make_unique<OutputFile>(options_.output, state_.output_length);
      if (output_->lost_bytes() > 0) {
        spdlog::error("{}: {} bytes shorter than recorded: something else cut it; continuing at its end",
                      options_.output.string(), output_->lost_bytes());
      }
    }
  }
  state_.output_length = output_->synced_length();
  save_state(state_path_, state_);
}

void Shipper::run(const std::atomic<bool>& stop) {
  spdlog::info("shipping {} into {} (hold-back {} ms, sync every {} ms)", options_.spool.string(),
               options_.output.string(), options_.hold_back.count(), options_.sync_interval.count());
  while (!stop.load(std::memory_order_relaxed)) {  // relaxed: a flag set by a signal handler, no data with it
    discover();
    const std::uint64_t now = now_unix_ns();
    const std::size_t read = read_sources(now);
    const std::size_t written = merge();
    close_finished_sources(now);
    if (commit_due(now)) commit(now);
    rotate_if_due(now);
    publish_status(now, false);
    if (options_.exit_when_drained && scanned_ && sources_.empty()) break;
    if (read == 0 && written == 0) watch_->wait(sources_.empty() ? 100 : 5);
  }
  commit(now_unix_ns());
  publish_status(now_unix_ns(), true);
  spdlog::info("stopped: {} lines shipped, output {} bytes", lines_shipped_, output_->synced_length());
}

void Shipper::discover() {
  const std::vector<std::string> names = watch_->new_names();
  for (const std::string& name : names) {
    if (!sources_.contains(name) && !refused_.contains(name)) admit(name);
  }
  if (!scanned_) {
    scanned_ = true;
    // Sources the state remembers whose files are gone (removed after their last record).
    for (auto it = state_.sources.begin(); it != state_.sources.end();) {
      it = sources_.contains(it->first) ? std::next(it) : state_.sources.erase(it);
    }
  }
}

void Shipper::admit(const std::string& name) {
  const std::filesystem::path path = options_.spool / name;
  switch (log::classify_spool_name(name)) {
    case log::SpoolEntry::hidden:
    case log::SpoolEntry::drops:
      return;
    case log::SpoolEntry::stranger:
      refused_.insert(name);
      refused_reasons_.push_back(name + ": not a spool queue name (skipped)");
      spdlog::warn("{}: not a spool queue (its name does not end in .q): skipped", path.string());
      return;
    case log::SpoolEntry::queue:
      break;
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // gone again
  if (!S_ISREG(st.st_mode)) {
    refused_.insert(name);
    refused_reasons_.push_back(name + ": not a regular file (skipped)");
    spdlog::warn("{}: not a regular file: skipped", path.string());
    return;
  }
  const auto saved = state_.sources.find(name);
  if (saved != state_.sources.end() && saved->second.leaving != Leaving::no) {
    if (finish_leaving(name, saved->second)) state_.sources.erase(saved);
    return;
  }
  try {
    const std::uint64_t resume_at = saved == state_.sources.end() ? 0 : saved->second.next_sequence;
    sources_[name] = std::make_unique<Source>(path, resume_at);
    state_.sources[name].next_sequence = std::max(resume_at, sources_[name]->next_to_ship());
  } catch (const Error& e) {
    if (e.code() == ErrorCode::role_taken) {
      refused_.insert(name);
      refused_reasons_.push_back(name + ": " + e.cause() + " (skipped)");
      spdlog::error("{}: skipped: {}", path.string(), e.what());
      return;
    }
    set_aside(name, e.cause());
  }
}

// A source the state says was leaving when the shipper stopped: finish it without a new line.
bool Shipper::finish_leaving(const std::string& name, const SourceState& saved) {
  if (saved.leaving == Leaving::set_aside) {
    set_aside(name, "set aside before a restart");
    return true;
  }
  if (!options_.remove_ended) return false;  // stays, remembered as ended
  remove_source_files(name);
  return true;
}

// Moves a queue (and its drop counter) into .set-aside/, never replacing anything there.
void Shipper::set_aside(const std::string& name, const std::string& cause) {
  refused_.insert(name);
  refused_reasons_.push_back(name + ": " + cause + " (set aside)");
  const std::filesystem::path dir = options_.spool / std::string(log::kSetAsideDir);
  for (const std::filesystem::path& from : {options_.spool / name, log::drops_path(options_.spool / name)}) {
    std::filesystem::path to = dir / from.filename();
    for (int n = 1; ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0; ++n) {
      if (errno == ENOENT) break;  // no drop counter: nothing to move
      if (errno != EEXIST || n > 1000) {
        spdlog::error("{}: cannot set aside: {}", from.string(), std::strerror(errno));
        break;
      }
      to = dir / (from.filename().string() + "." + std::to_string(n));
    }
  }
  sync_directory(options_.spool);
  spdlog::error("{}: {}: set aside in {}", (options_.spool / name).string(), cause, dir.string());
}

std::size_t Shipper::read_sources(std::uint64_t now) {
  std::size_t read = 0;
  for (auto& [name, source] : sources_) {
    read += source->fill(now);
    source->check_ended(now);
  }
  return read;
}

// Writes, in timestamp order, every pending record that no other source can still precede
// (docs/LOGGING.md, "Order"). Returns how many it wrote.
std::size_t Shipper::merge() {
  const std::uint64_t hold = ms_to_ns(options_.hold_back);
  // No record newer than the horizon may go yet: a source with nothing pending may still publish
  // one as old as (the time it was seen empty - hold-back); one not yet read, anything at all.
  std::uint64_t horizon = UINT64_MAX;
  auto limit_by = [&](const Source& s) {
    if (s.phase() != SourcePhase::active) return;  // it will publish nothing more
    const std::optional<std::uint64_t> since = s.empty_since();
    horizon = std::min(horizon, since ? (*since > hold ? *since - hold : 0) : 0);
  };
  using Head = std::pair<std::uint64_t, Source*>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (auto& [name, source] : sources_) {
    if (source->pending().empty()) {
      limit_by(*source);
    } else {
      heads.emplace(source->pending().front().time_unix_ns, source.get());
    }
  }
  std::size_t written = 0;
  const auto file_full = [&] { return options_.max_size > 0 && output_->length() >= options_.max_size; };
  while (!heads.empty() && heads.top().first <= horizon && !file_full()) {  // full: rotate first
    Source* source = heads.top().second;
    heads.pop();
    std::deque<PendingRecord>& pending = source->pending();
    output_->append_line(pending.front().text);
    written_since_sync_ += pending.front().text.size() + 1;
    pending.pop_front();
    ++written;
    if (pending.empty()) {
      limit_by(*source);
    } else {
      heads.emplace(pending.front().time_unix_ns, source);
    }
  }
  lines_shipped_ += written;
  return written;
}

void Shipper::write_own_line(const std::string& text) {
  output_->append_line(kOwnPrefix + text);
  written_since_sync_ += text.size() + 1;
}

void Shipper::report_drops(Source& source) {
  const log::DropCountRead read = log::read_drop_count(log::drops_path(source.path()));
  if (!read.count) return;  // no counter (a process killed before creating it): nothing counted
  SourceState& saved = state_.sources[source.name()];
  if (read.count->dropped <= saved.drops_reported) return;
  const std::uint64_t fresh = read.count->dropped - saved.drops_reported;
  write_own_line(fmt::format("{}: {} records dropped (queue full), the last at {}; {} in all since {}", source.name(),
                             fresh, iso_time(read.count->last_drop_unix_ns), read.count->dropped,
                             iso_time(read.count->first_drop_unix_ns)));
  saved.drops_reported = read.count->dropped;
}

// Sources with nothing left to ship: their last line (ended, or set aside) goes into the output,
// and the state marks them as leaving; the files go after the commit that records it.
void Shipper::close_finished_sources(std::uint64_t now) {
  const bool check_drops = now >= last_drop_check_ns_ + kDropCheckEveryNs;
  if (check_drops) last_drop_check_ns_ = now;
  for (auto& [name, source] : sources_) {
    SourceState& saved = state_.sources[name];
    if (saved.leaving != Leaving::no) continue;
    const bool finished = source->phase() != SourcePhase::active && source->pending().empty();
    if (check_drops || finished) report_drops(*source);
    if (!finished) continue;
    if (source->phase() == SourcePhase::failed) {
      write_own_line(fmt::format("{}: set aside, nothing more shipped from it: {}", name, source->failure()));
      saved.leaving = Leaving::set_aside;
    } else {
      const std::optional<pid_t> pid = pid_in_queue_name(name);
      const char* how = source->closed_cleanly()   ? "ended cleanly"
                        : source->never_attached() ? "ended before it logged anything (killed while starting)"
                                                   : "ended without closing its log (killed or crashed)";
      write_own_line(fmt::format("{}: process {} {}", name, pid ? std::to_string(*pid) : "?", how));
      saved.leaving = Leaving::remove;
    }
  }
}

bool Shipper::commit_due(std::uint64_t now) const {
  if (written_since_sync_ >= kSyncBytes) return true;
  bool work = written_since_sync_ > 0;
  for (const auto& [name, source] : sources_) {
    if (source->throttled()) return true;  // nothing more can be read from it before a release
    work = work || source->needs_release() || state_.sources.at(name).leaving != Leaving::no;
  }
  return work && now >= last_sync_ns_ + ms_to_ns(options_.sync_interval);
}

// Output on disk first, then the record of it, then the queues' space back (exactly once).
void Shipper::commit(std::uint64_t now) {
  output_->sync();
  state_.output_length = output_->synced_length();
  for (auto& [name, source] : sources_) state_.sources[name].next_sequence = source->next_to_ship();
  save_state(state_path_, state_);
  for (auto& [name, source] : sources_) source->release_if_shipped();
  written_since_sync_ = 0;
  last_sync_ns_ = now;
  leave_closed_sources();
}

void Shipper::leave_closed_sources() {
  for (auto it = sources_.begin(); it != sources_.end();) {
    const std::string name = it->first;
    const SourceState saved = state_.sources[name];
    if (saved.leaving == Leaving::no) {
      ++it;
      continue;
    }
    Source& source = *it->second;
    source.detach();
    if (saved.leaving == Leaving::set_aside) {
      set_aside(name, source.failure());
      state_.sources.erase(name);
    } else if (options_.remove_ended) {
      remove_source_files(name);
      state_.sources.erase(name);
    } else {
      refused_.insert(name);  // kept in the spool, remembered in the state as ended
    }
    it = sources_.erase(it);
  }
}

// A drained source: its drop counter (a regular file, if it is there), then the queue through
// shmq::remove_queue, which removes exactly the queue file it validated, with both roles locked.
void Shipper::remove_source_files(const std::string& name) {
  const std::filesystem::path queue = options_.spool / name;
  const std::filesystem::path drops = log::drops_path(queue);
  struct stat st {};
  if (::lstat(drops.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::unlink(drops.c_str()) != 0 && errno != ENOENT) {
    throw FileError(drops, "cannot remove the drop counter", errno);
  }
  if (::lstat(queue.c_str(), &st) != 0) return;  // removed already (before a restart)
  try {
    shmq::remove_queue(queue);
  } catch (const Error& e) {
    spdlog::warn("{}: drained, but not removed: {}", queue.string(), e.what());
  }
}

void Shipper::rotate_if_due(std::uint64_t now) {
  const std::uint64_t length = output_->length();
  if (length == 0) return;
  const bool by_size = options_.max_size > 0 && length >= options_.max_size;
  const bool by_age =
      options_.max_age.count() > 0 &&
      now / 1'000'000'000 >= state_.output_started_unix_s + static_cast<std::uint64_t>(options_.max_age.count());
  if (!by_size && !by_age) return;
  commit(now);  // everything in the file is recorded before it moves
  output_->rotate_to(rotated_path(options_.output, state_.next_rotation));
  ++state_.next_rotation;
  state_.output_length = 0;
  state_.output_started_unix_s = now / 1'000'000'000;
  save_state(state_path_, state_);
  rotated_->tidy();
}

void Shipper::publish_status(std::uint64_t now, bool force) {
  if (!force && now < last_status_ns_ + ms_to_ns(options_.status_interval)) return;
  last_status_ns_ = now;
  StatusReport report;
  report.time_unix_ns = now;
  report.pid = static_cast<std::uint64_t>(::getpid());
  report.output = options_.output.string();
  report.output_length = output_->length();
  report.lines_shipped = lines_shipped_;
  for (const auto& [name, source] : sources_) {
    SourceRow row;
    row.name = name;
    row.state = to_string(source->phase());
    row.shipped = source->next_to_ship();
    row.published = source->published();
    row.pending = source->pending().size();
    const log::DropCountRead drops = log::read_drop_count(log::drops_path(source->path()));
    row.drops = drops.count ? drops.count->dropped : 0;
    report.sources.push_back(row);
  }
  report.set_aside = refused_reasons_;
  const std::string json = status_json(report);
  try {
    replace_file(status_path_for(options_.spool), json + "\n", false);
  } catch (const FileError& e) {
    spdlog::warn("{}", e.what());
  }
  if (options_.json_stat) std::printf("%s\n", json.c_str()), std::fflush(stdout);
}

}  // namespace shmq::logd
