#include "snapshot_text.hpp"

#include <cstring>

#include <fmt/format.h>

#include "layout.hpp"
#include "units.hpp"

namespace shmq::tool {

std::string describe_role(const RoleSnapshot& role, const char* waits_for) {
  if (role.attach_count == 0) return "never attached";
  std::string s;
  if (role.attached) {
    s = fmt::format("attached, pid {} (recorded in the file: informative only)", role.pid);
  } else if (role.attached_flag) {
    s = fmt::format("not attached (died without detaching: last pid {})", role.pid);
  } else {
    s = fmt::format("not attached (last pid {})", role.pid);
  }
  s += fmt::format(", {} attach{}", role.attach_count, role.attach_count == 1 ? "" : "es");
  if (role.waiting) {
    s += role.attached ? fmt::format(", waiting for {} (parked on its futex)", waits_for)
                       : std::string(", stale waiter flag (it died while parked)");
  } else {
    s += fmt::format(", waiting for {}: no", waits_for);
  }
  return s;
}

std::string describe_fencing_reason(const RoleSnapshot& role) {
  if (role.fencing == layout::kFencingMembarrier) return "";
  if (role.fencing_errno == 0) return "full fences requested (OpenOptions::fencing or SHMQ_FENCING=full)";
  return fmt::format("membarrier unavailable: {} ({})", std::strerror(static_cast<int>(role.fencing_errno)),
                     role.fencing_errno);
}

std::string describe_fencing(const RoleSnapshot& role) {
  if (role.attach_count == 0) return "n/a";
  if (role.fencing == layout::kFencingMembarrier) return "membarrier (no fence per message)";
  return "full fence per message (" + describe_fencing_reason(role) + ")";
}

std::string describe_depth(const QueueSnapshot& s, bool with_note) {
  const std::string messages = s.depth_messages
                                   ? fmt::format("{} message{}", *s.depth_messages, *s.depth_messages == 1 ? "" : "s")
                                   : std::string("? messages");
  std::string text = fmt::format("{}, {} ({} bytes)  {} {:.1f}%", messages, format_size(s.depth_bytes), s.depth_bytes,
                                 fill_bar(s.fill()), 100.0 * s.fill());
  if (with_note && !s.depth_note.empty()) text += " (" + s.depth_note + ")";
  return text;
}

std::string describe_durable(const QueueSnapshot& s) {
  if (!s.durable_mode) return "n/a (not a durable queue)";
  if (!s.durable) return "no valid checkpoint (the next read-write open refuses the file if none is found)";
  return fmt::format("sequence {} (position {}), checkpoint {} at {}, {} ago", s.durable->sequence, s.durable->position,
                     s.durable->counter, format_utc(s.durable->checkpoint_unix_ns),
                     format_duration(s.checkpoint_age()));
}

}  // namespace shmq::tool
