// remove_queue: deletes exactly the queue file it checked (see shmq/queue.hpp).
#include <cerrno>
#include <cstdio>
#include <random>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue_file.hpp"
#include "role_lock.hpp"
#include "shmq/error.hpp"
#include "shmq/log.hpp"
#include "shmq/queue.hpp"

namespace shmq {
namespace {

using detail::FileDescriptor;
using detail::Role;

[[noreturn]] void fail(ErrorCode code, const std::filesystem::path& path, const std::string& cause, int err = 0) {
  throw Error(code, path, cause, err);
}

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// Reads the identity block through `fd` and validates it. Returns nothing for a valid queue, the
// error for a damaged or incompatible one (still a queue file: removable by force); throws for
// anything that is not a shmq queue file at all.
std::optional<Error> check_is_queue(int fd, std::uint64_t size, const std::filesystem::path& path) {
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
    return e;
  }
  return std::nullopt;
}

// The role's holder, for the refusal message: its pid as recorded in the file.
std::string holder(int fd, Role role) {
  const off_t line = role == Role::producer ? offsetof(layout::Header, producer) : offsetof(layout::Header, consumer);
  std::uint32_t pid = 0;
  if (::pread(fd, &pid, sizeof pid, line + static_cast<off_t>(offsetof(layout::RoleLine, pid))) != sizeof pid) pid = 0;
  return std::string("the ") + to_string(role) + " is attached (pid " + std::to_string(pid) +
         " as recorded in the file: informative only)";
}

// Unlinks `name` in `dir_fd` only if it is still the file `expected`.
void unlink_exact(int dir_fd, const std::string& name, const struct stat& expected, const std::filesystem::path& path) {
  std::mt19937_64 random(std::random_device{}());
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".removing.%016llx", static_cast<unsigned long long>(random()));
  const std::string temp = "." + name + suffix;
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

}  // namespace

RemoveReport remove_queue(const std::filesystem::path& path, const RemoveOptions& options) {
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
    if (errno == ELOOP) fail(ErrorCode::not_a_queue, path, "is a symbolic link (shmq never follows one)");
    if (errno == EISDIR) fail(ErrorCode::not_a_queue, path, "is a directory, not a queue file");
    fail(ErrorCode::io, path, "cannot open the queue file", errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(ErrorCode::io, path, "cannot stat the queue file", errno);
  if (!S_ISREG(st.st_mode)) fail(ErrorCode::not_a_queue, path, "not a regular file");
  if (st.st_uid != ::geteuid() && !options.allow_other_owner) {
    fail(ErrorCode::foreign_owner, path,
         "owned by uid " + std::to_string(st.st_uid) + ", not by this process (uid " + std::to_string(::geteuid()) +
             ")");
  }
  RemoveReport report;
  if (const std::optional<Error> damage = check_is_queue(fd.get(), static_cast<std::uint64_t>(st.st_size), path)) {
    if (!options.force) throw Error(damage->code(), path, damage->cause() + "", damage->sys_errno());
    report.damage = damage->cause();
  }
  for (const Role role : {Role::producer, Role::consumer}) {
    const bool held =
        can_lock ? !detail::try_take_role(fd.get(), role, path) : detail::role_held_by_other(fd.get(), role, path);
    if (held) report.attached.push_back(holder(fd.get(), role));
  }
  if (!report.attached.empty() && !options.force) {
    std::string who = report.attached.front();
    if (report.attached.size() > 1) who += " and " + report.attached.back();
    fail(ErrorCode::role_taken, path, who + "");
  }
  unlink_exact(dir_fd.get(), name, st, path);
  ::fsync(dir_fd.get());  // make the removal durable where that means anything (not on tmpfs)
  logger()->info("removed {}{}", path.string(),
                 options.force && (!report.attached.empty() || !report.damage.empty()) ? " (forced)" : "");
  return report;
}

}  // namespace shmq
