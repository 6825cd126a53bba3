// shmq remove PATH [--force]: deletes a queue file through shmq::remove_queue (shmq/queue.hpp),
// which removes exactly the file it checked and refuses while a producer or consumer is attached.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "diagnostics.hpp"
#include "shmq/error.hpp"
#include "shmq/queue.hpp"

namespace shmq::tool {

namespace {

struct RemoveOptions {
  QueueArgs queue;
  bool force = false;
};

int remove(const RemoveOptions& o) {
  RemoveReport report;
  try {
    report = remove_queue(o.queue.path, {.allow_other_owner = o.queue.any_owner, .force = o.force});
  } catch (const Error& e) {
    if (e.code() == ErrorCode::role_taken) {
      log().error("{}: not removed: {}; stop it first, or use --force", o.queue.path, e.cause());
      return kExitDamaged;
    }
    if (e.code() == ErrorCode::damaged_file || e.code() == ErrorCode::incompatible) {
      log().error("{}: not removed: damaged or incompatible queue file ({}); use --force to remove it anyway",
                  o.queue.path, e.cause());
      return kExitDamaged;
    }
    throw;  // not a queue, not ours, unreadable: exit 2 with the library's message
  }
  if (!report.damage.empty()) {
    log().warn("{}: removed a damaged or incompatible queue file (--force): {}", o.queue.path, report.damage);
  }
  for (const std::string& who : report.attached) {
    log().warn("{}: removing it anyway (--force): {}; it keeps using the deleted file until it detaches", o.queue.path,
               who);
  }
  std::cout << fmt::format("removed {}\n", o.queue.path);
  return kExitOk;
}

}  // namespace

Command add_remove(CLI::App& app) {
  auto o = std::make_shared<RemoveOptions>();
  CLI::App* sub = app.add_subcommand(
      "remove", "Delete a queue file, unless a producer or consumer is attached (never follows a symlink)");
  add_queue_args(*sub, o->queue);
  sub->add_flag("--force", o->force,
                "Remove it even while a producer or consumer is attached, or when the queue file is damaged "
                "(a file that is not a shmq queue at all is never removed)");
  return {sub, [o] { return remove(*o); }};
}

}  // namespace shmq::tool
