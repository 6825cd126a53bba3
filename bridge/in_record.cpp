#include "in_record.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "nats_session.hpp"
#include "shmq_headers.hpp"

namespace shmq_bridge {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw FatalError(path.string() + ": " + what);
}

void sync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    fail(path, std::string("cannot sync: ") + std::strerror(error));
  }
  ::close(fd);
}

}  // namespace

std::filesystem::path record_path(const std::filesystem::path& queue) { return queue.string() + ".shmq-bridge-in"; }

std::optional<InRecord> read_record(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    fail(path, std::string("cannot read shmq-bridge in's record: ") + std::strerror(errno));
  }
  std::map<std::string, std::string> fields;
  std::string line;
  while (std::getline(in, line)) {
    const std::string::size_type space = line.find(' ');
    if (line.empty() || line[0] == '#') continue;
    if (space == std::string::npos) fail(path, "not a shmq-bridge in record (line \"" + line + "\")");
    fields[line.substr(0, space)] = line.substr(space + 1);
  }
  InRecord r;
  r.queue_instance = fields["queue_instance"];
  r.stream = fields["stream"];
  r.consumer = fields["consumer"];
  r.source_instance = fields["source_instance"];
  const std::optional<std::uint64_t> start = parse_sequence(fields["source_start"]);
  if (r.queue_instance.empty() || r.stream.empty() || r.consumer.empty() || r.source_instance.empty() || !start) {
    fail(path, "not a complete shmq-bridge in record (remove it only together with its queue)");
  }
  r.source_start = *start;
  return r;
}

void write_record(const std::filesystem::path& path, const InRecord& r) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "# shmq-bridge in: what filled the queue beside this file (see docs/BRIDGE.md)\n"
        << "queue_instance " << r.queue_instance << "\nstream " << r.stream << "\nconsumer " << r.consumer
        << "\nsource_instance " << r.source_instance << "\nsource_start " << r.source_start << "\n";
    out.flush();
    if (!out) fail(temporary, "cannot write shmq-bridge in's record");
  }
  std::error_code mode_error;  // readable by the owner only, like a queue by default
  std::filesystem::permissions(temporary, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               mode_error);
  sync_path(temporary, O_RDONLY);
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) fail(path, "cannot replace shmq-bridge in's record: " + error.message());
  sync_path(path.parent_path().empty() ? "." : path.parent_path(), O_RDONLY | O_DIRECTORY);
}

}  // namespace shmq_bridge
