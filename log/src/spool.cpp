#include "shmq/log/spool.hpp"

namespace shmq::log {

std::string spool_program_name(std::string_view program) {
  std::string name;
  for (const char c : program) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    name += plain ? c : '_';
  }
  return name.empty() ? std::string("program") : name;
}

std::string spool_queue_name(std::string_view program, pid_t pid, std::uint64_t start_unix_ns) {
  return spool_program_name(program) + "." + std::to_string(pid) + "." + std::to_string(start_unix_ns) +
         std::string(kQueueSuffix);
}

std::filesystem::path drops_path(const std::filesystem::path& queue) {
  return std::filesystem::path(queue.string() + std::string(kDropsSuffix));
}

SpoolEntry classify_spool_name(std::string_view name) noexcept {
  if (name.empty() || name.front() == '.') return SpoolEntry::hidden;
  const std::string_view drops_of_queue = ".q.drops";
  if (name.size() > drops_of_queue.size() && name.ends_with(drops_of_queue)) return SpoolEntry::drops;
  if (name.size() > kQueueSuffix.size() && name.ends_with(kQueueSuffix)) return SpoolEntry::queue;
  return SpoolEntry::stranger;
}

}  // namespace shmq::log
