// shmq remove PATH [--force]: deletes a queue file, refusing while a producer or consumer is
// attached. It removes exactly the file it checked: the file is opened without following a
// symlink, both role locks are taken through it (so nobody can attach while it goes), and the
// directory entry is renamed to a private name and compared with the open file before unlinking.
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.hpp"
#include "diagnostics.hpp"
#include "queue_file.hpp"
#include "role_lock.hpp"
#include "shmq/error.hpp"

namespace shmq::tool {

namespace {

using detail::FileDescriptor;
using detail::Role;

[[noreturn]] void fail(ErrorCode code, const std::filesystem::path& path, const std::string& cause, int err = 0) {
  throw Error(code, path, cause, err);
}

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// Reads the identity block through `fd` and validates it. Returns an empty string for a valid
// queue, the cause for a damaged or incompatible one (still a queue file: removable); throws for
// anything that is not a shmq queue file at all.
std::string check_is_queue(int fd, std::uint64_t size, const std::filesystem::path& path) {
  layout::Identity id{};
  if (size < sizeof id)
    fail(ErrorCode::not_a_queue, path, "only " + std::to_string(size) + " bytes: not a shmq queue file");
  std::size_t got = 0;
  while (got < sizeof id) {
    const ssize_t n = ::pread(fd, reinterpret_cast<char*>(&id) + got, sizeof id - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(ErrorCode::io, path, "cannot read the header", n < 0 ? errno : EIO);
    got += static_cast<std::size_t>(n);
  }
  try {
    detail::validate_identity(id, size, path);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_a_queue) throw;
    return cause_of(e);
  }
  return {};
}

// The role's holder, for the refusal message: its pid as recorded in the file.
std::string holder(int fd, Role role) {
  const off_t line = role == Role::producer ? offsetof(layout::Header, producer) : offsetof(layout::Header, consumer);
  std::uint32_t pid = 0;
  if (::pread(fd, &pid, sizeof pid, line + static_cast<off_t>(offsetof(layout::RoleLine, pid))) != sizeof pid) pid = 0;
  return fmt::format("the {} is attached (pid {} as recorded in the file: informative only)", to_string(role), pid);
}

// Unlinks `name` in `dir_fd` only if it is still the file `expected`.
void unlink_exact(int dir_fd, const std::string& name, const struct stat& expected, const std::filesystem::path& path) {
  std::mt19937_64 random(std::random_device{}());
  const std::string temp = fmt::format(".{}.removing.{:016x}", name, random());
  if (::renameat2(dir_fd, name.c_str(), dir_fd, temp.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno != EINVAL && errno != ENOSYS) fail(ErrorCode::io, path, "cannot remove the queue file", errno);
    // A file system without RENAME_NOREPLACE: compare, then unlink (a narrow window remains).
    struct stat now {};
    if (::fstatat(dir_fd, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 || !same_file(now, expected)) {
      fail(ErrorCode::io, path, "the file was replaced while it was being removed; nothing removed");
    }
    if (::unlinkat(dir_fd, name.c_str(), 0) != 0) fail(ErrorCode::io, path, "cannot remove the queue file", errno);
    return;
  }
  struct stat moved {};
  if (::fstatat(dir_fd, temp.c_str(), &moved, AT_SYMLINK_NOFOLLOW) != 0 || !same_file(moved, expected)) {
    if (::renameat2(dir_fd, temp.c_str(), dir_fd, name.c_str(), RENAME_NOREPLACE) != 0) {
      fail(ErrorCode::io, path, "the file was replaced while it was being removed; the new file is now named " + temp);
    }
    fail(ErrorCode::io, path, "the file was replaced while it was being removed; nothing removed");
  }
  if (::unlinkat(dir_fd, temp.c_str(), 0) != 0) {
    const int err = errno;
    (void)::renameat2(dir_fd, temp.c_str(), dir_fd, name.c_str(), RENAME_NOREPLACE);
    fail(ErrorCode::io, path, "cannot remove the queue file", err);
  }
}

struct RemoveOptions {
  QueueArgs queue;
  bool force = false;
};

int remove(const RemoveOptions& o) {
  const std::filesystem::path path = o.queue.path;
  const std::string name = path.filename().string();
  if (name.empty() || name == "." || name == "..") fail(ErrorCode::invalid_argument, path, "does not name a file");
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const FileDescriptor dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) fail(ErrorCode::io, path, "cannot open the directory " + dir.string(), errno);

  // Read-write only to take the role locks (OFD write locks need a writable descriptor); nothing is written.
  const int flags = O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  bool can_lock = true;
  FileDescriptor fd(::openat(dir_fd.get(), name.c_str(), O_RDWR | flags));
  if (fd.get() < 0 && (errno == EACCES || errno == EROFS)) {
    can_lock = false;  // the owner's mode forbids writing: only ask who holds the roles
    fd = FileDescriptor(::openat(dir_fd.get(), name.c_str(), O_RDONLY | flags));
  }
  if (fd.get() < 0) {
    if (errno == ELOOP) fail(ErrorCode::not_a_queue, path, "is a symbolic link (shmq never follows one); not removed");
    if (errno == EISDIR) fail(ErrorCode::not_a_queue, path, "is a directory, not a queue file; not removed");
    fail(ErrorCode::io, path, "cannot open the queue file", errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(ErrorCode::io, path, "cannot stat the queue file", errno);
  if (!S_ISREG(st.st_mode)) fail(ErrorCode::not_a_queue, path, "not a regular file; not removed");
  if (st.st_uid != ::geteuid() && !o.queue.any_owner) {
    fail(ErrorCode::foreign_owner, path,
         fmt::format("owned by uid {}, not by you (uid {}); use --any-owner to remove it", st.st_uid, ::geteuid()));
  }
  const std::string damage = check_is_queue(fd.get(), static_cast<std::uint64_t>(st.st_size), path);
  if (!damage.empty()) {
    if (!o.force) {
      log().error("{}: not removed: damaged or incompatible queue file ({}); use --force to remove it anyway",
                  path.string(), damage);
      return kExitDamaged;
    }
    log().warn("{}: removing a damaged or incompatible queue file (--force): {}", path.string(), damage);
  }

  std::vector<std::string> attached;
  for (const Role role : {Role::producer, Role::consumer}) {
    const bool held =
        can_lock ? !detail::try_take_role(fd.get(), role, path) : detail::role_held_by_other(fd.get(), role, path);
    if (held) attached.push_back(holder(fd.get(), role));
  }
  if (!attached.empty()) {
    std::string who = attached.front();
    if (attached.size() > 1) who += " and " + attached.back();
    if (!o.force) {
      log().error("{}: not removed: {}; stop it first, or use --force", path.string(), who);
      return kExitDamaged;
    }
    log().warn("{}: removing it anyway (--force): {}; it keeps using the deleted file until it detaches", path.string(),
               who);
  }
  unlink_exact(dir_fd.get(), name, st, path);
  ::fsync(dir_fd.get());  // make the removal durable where that means anything (not on tmpfs)
  std::cout << fmt::format("removed {}\n", path.string());
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
