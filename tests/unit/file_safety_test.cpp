// Bad input at create and open: each gives a clear error naming the file, never a crash, and
// leaves what is on disk byte-for-byte as it was.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <fstream>
#include <string>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checksum.hpp"
#include "layout.hpp"
#include "queue_file.hpp"
#include "shmq/shmq.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::read_file;
using test::TempQueue;

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Rewrites the identity block through `edit`, with a valid checksum, so that only the edited
// field is wrong.
template <class Edit>
void patch_identity(const std::filesystem::path& path, Edit edit) {
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  layout::Identity id{};
  ASSERT_EQ(::pread(fd, &id, sizeof id, 0), static_cast<ssize_t>(sizeof id));
  edit(id);
  id.checksum = detail::bytes_checksum(&id.format_version, offsetof(layout::Identity, checksum) - 8);
  ASSERT_EQ(::pwrite(fd, &id, sizeof id, 0), static_cast<ssize_t>(sizeof id));
  ::close(fd);
}

// Both roles refuse the file with `code`, name it, mention `cause`, and leave it unchanged.
void expect_refused(const std::filesystem::path& path, ErrorCode code, const std::string& cause, bool regular = true) {
  const std::vector<char> before = regular ? read_file(path) : std::vector<char>{};
  for (int role = 0; role < 2; ++role) {
    try {
      if (role == 0)
        (void)Producer::open(path);
      else
        (void)Consumer::open(path);
      ADD_FAILURE() << "opened " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_EQ(e.path(), path);
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(cause), std::string::npos) << e.what();
    }
  }
  if (regular) {
    EXPECT_EQ(read_file(path), before) << "the file was changed";
  }
}

// Resident size (KiB) of this process's mapping that starts at `address`, from /proc/self/smaps.
std::uint64_t resident_kib(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  const auto start = reinterpret_cast<std::uintptr_t>(address);
  bool ours = false;
  for (std::string line; std::getline(smaps, line);) {
    const std::size_t dash = line.find('-');
    const std::size_t space = line.find(' ');
    if (dash != std::string::npos && dash < space &&
        line.find_first_not_of("0123456789abcdef-") == space) {  // "start-end perms ...": a new mapping
      ours = std::stoull(line.substr(0, dash), nullptr, 16) == start;
    } else if (ours && line.rfind("Rss:", 0) == 0) {
      return std::stoull(line.substr(4));
    }
  }
  ADD_FAILURE() << "no mapping at " << address << " in /proc/self/smaps";
  return 0;
}

// A read-write open of a queue in tmpfs maps every page at once (no page fault on the hot path);
// a queue on a disk file system is left to fault in (populating it would dirty the whole ring).
TEST(FileSafety, QueuesInTmpfsArePrefaultedAtOpen) {
  constexpr std::uint64_t kCapacity = 1 << 20;
  TempQueue shm;
  create_queue(shm.path(), {.capacity = kCapacity});
  detail::QueueFile in_memory = detail::QueueFile::open(shm.path(), detail::Access::read_write, {});
  EXPECT_GE(resident_kib(in_memory.region_address()), (layout::kHeaderSize + kCapacity) / 1024);

  TempQueue disk("/tmp");
  create_queue(disk.path(), {.capacity = kCapacity});
  detail::QueueFile on_disk = detail::QueueFile::open(disk.path(), detail::Access::read_write, {});
  EXPECT_LT(resident_kib(on_disk.region_address()), kCapacity / 1024 / 2);
}

TEST(FileSafety, NotAQueueFile) {
  TempQueue q;
  write_bytes(q.path(), std::string(20000, 'A'));
  expect_refused(q.path(), ErrorCode::not_a_queue, "bad magic");
  write_bytes(q.path(), "hello\n");
  expect_refused(q.path(), ErrorCode::not_a_queue, "too short");
  write_bytes(q.path(), "");
  expect_refused(q.path(), ErrorCode::not_a_queue, "too short");
}

TEST(FileSafety, TruncatedFile) {
  TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024});
  ASSERT_EQ(::truncate(q.path().c_str(), 16384 + 1000), 0);
  expect_refused(q.path(), ErrorCode::damaged_file, "truncated");
  ASSERT_EQ(::truncate(q.path().c_str(), 200), 0);
  expect_refused(q.path(), ErrorCode::damaged_file, "truncated");
  ASSERT_EQ(::truncate(q.path().c_str(), 100), 0);
  expect_refused(q.path(), ErrorCode::not_a_queue, "too short");
}

TEST(FileSafety, WrongSizeFile) {
  TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024});
  ASSERT_EQ(::truncate(q.path().c_str(), 16384 + 128 * 1024), 0);
  expect_refused(q.path(), ErrorCode::damaged_file, "a queue of capacity 65536 is 81920");
}

TEST(FileSafety, WrongVersionAndLayout) {
  TempQueue q;
  create_queue(q.path());
  patch_identity(q.path(), [](layout::Identity& id) { id.format_version = 99; });
  expect_refused(q.path(), ErrorCode::incompatible, "format version 99");
  patch_identity(q.path(), [](layout::Identity& id) {
    id.format_version = layout::kFormatVersion;
    id.layout_id ^= 1;
  });
  expect_refused(q.path(), ErrorCode::incompatible, "layout");
  patch_identity(q.path(), [](layout::Identity& id) {
    id.layout_id = layout::kLayoutId;
    id.flags = 1u << 20;
  });
  expect_refused(q.path(), ErrorCode::incompatible, "flags");
}

// A file of format 1 (published through the producer's position, before readiness moved into
// the record): refused, untouched, with both versions named. Its layout id differs too; the
// version is checked first, so the message says what a user can act on.
TEST(FileSafety, AFormatOneFileIsRefusedNamingBothVersions) {
  TempQueue q;
  create_queue(q.path());
  patch_identity(q.path(), [](layout::Identity& id) {
    id.format_version = 1;
    id.layout_id = 0x696224F5u;  // format 1's layout fingerprint
  });
  const std::vector<char> before = test::read_file(q.path());
  expect_refused(q.path(), ErrorCode::incompatible, "queue format version 1, this build reads version 2");
  EXPECT_EQ(test::read_file(q.path()), before);
}

TEST(FileSafety, CapacityNotAPowerOfTwo) {
  TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024});
  patch_identity(q.path(), [](layout::Identity& id) { id.capacity = 48 * 1024; });
  expect_refused(q.path(), ErrorCode::damaged_file, "not a power of two");
}

TEST(FileSafety, HeaderChecksumMismatch) {
  TempQueue q;
  create_queue(q.path());
  const int fd = ::open(q.path().c_str(), O_RDWR);
  const std::uint64_t forged = 12345;
  ASSERT_EQ(::pwrite(fd, &forged, sizeof forged, offsetof(layout::Identity, instance_id)), 8);
  ::close(fd);
  expect_refused(q.path(), ErrorCode::damaged_file, "checksum");
}

TEST(FileSafety, ImpossiblePositions) {
  TempQueue q;
  create_queue(q.path(), {.capacity = 4096});
  const int fd = ::open(q.path().c_str(), O_RDWR);
  const std::uint64_t write_position = 8192;  // two rings ahead of the read position
  ASSERT_EQ(::pwrite(fd, &write_position, 8, offsetof(layout::Header, producer)), 8);
  ::close(fd);
  expect_refused(q.path(), ErrorCode::damaged_file, "impossible positions");
}

TEST(FileSafety, GarbageRecordIsRefusedByTheProducerWithoutWriting) {
  TempQueue q;
  create_queue(q.path(), {.capacity = 4096});
  const int fd = ::open(q.path().c_str(), O_RDWR);
  const std::uint64_t write_position = 64;
  ASSERT_EQ(::pwrite(fd, &write_position, 8, offsetof(layout::Header, producer)), 8);
  const std::uint64_t garbage[2] = {0xFFFF'FFFF'0000'1000ull, 0};
  ASSERT_EQ(::pwrite(fd, garbage, 16, 16384), 16);
  ::close(fd);
  const std::vector<char> before = read_file(q.path());
  try {
    (void)Producer::open(q.path());
    FAIL() << "producer attached to a ring with a garbage record";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::damaged_file) << e.what();
    EXPECT_NE(std::string(e.what()).find(q.str()), std::string::npos);
  }
  EXPECT_EQ(read_file(q.path()), before);
}

TEST(FileSafety, ExistingFileAtCreate) {
  TempQueue q;
  write_bytes(q.path(), "precious");
  try {
    create_queue(q.path());
    FAIL() << "create replaced an existing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::already_exists);
    EXPECT_NE(std::string(e.what()).find(q.str()), std::string::npos);
  }
  EXPECT_EQ(read_file(q.path()), std::vector<char>({'p', 'r', 'e', 'c', 'i', 'o', 'u', 's'}));
  // And an existing queue is not replaced by Producer::create either.
  std::filesystem::remove(q.path());
  create_queue(q.path());
  const std::vector<char> queue = read_file(q.path());
  EXPECT_THROW((void)Producer::create(q.path()), Error);
  EXPECT_EQ(read_file(q.path()), queue);
}

TEST(FileSafety, SymlinkPlantedAtThePath) {
  TempQueue q;
  TempQueue target;
  write_bytes(target.path(), "target content");
  ASSERT_EQ(::symlink(target.path().c_str(), q.path().c_str()), 0);
  try {
    create_queue(q.path());
    FAIL() << "create went through a symlink";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::already_exists);
    EXPECT_NE(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
  }
  expect_refused(q.path(), ErrorCode::not_a_queue, "symbolic link");
  std::ifstream in(target.path());
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "target content");
  // A symlink to a valid queue is refused too: shmq never follows one.
  std::filesystem::remove(target.path());
  create_queue(target.path());
  expect_refused(q.path(), ErrorCode::not_a_queue, "symbolic link");
}

TEST(FileSafety, DanglingSymlinkIsNotFollowedAtCreate) {
  TempQueue q;
  TempQueue target;
  ASSERT_EQ(::symlink(target.path().c_str(), q.path().c_str()), 0);
  EXPECT_THROW(create_queue(q.path()), Error);
  EXPECT_FALSE(std::filesystem::exists(target.path())) << "create followed the symlink";
}

TEST(FileSafety, FifoOrDirectoryAtThePath) {
  TempQueue q;
  ASSERT_EQ(::mkfifo(q.path().c_str(), 0600), 0);
  expect_refused(q.path(), ErrorCode::not_a_queue, "not a regular file", false);
  std::filesystem::remove(q.path());
  std::filesystem::create_directory(q.path());
  try {
    (void)Consumer::open(q.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(q.str()), std::string::npos);
  }
  std::filesystem::remove(q.path());
}

TEST(FileSafety, MissingFile) {
  TempQueue q;
  try {
    (void)Consumer::open(q.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
    EXPECT_EQ(e.sys_errno(), ENOENT);
    EXPECT_FALSE(e.cause().empty());
    // what() is the parts in one line: "<path>: <cause>: <errno text> [<code>]".
    EXPECT_EQ(std::string(e.what()), q.str() + ": " + e.cause() + ": " + std::strerror(ENOENT) + " [io]");
  }
}

TEST(FileSafety, ModeIsExactWhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{077}, mode_t{022}}) {
    for (mode_t mode : {mode_t{0600}, mode_t{0660}, mode_t{0644}}) {
      TempQueue q;
      const mode_t old = ::umask(mask);
      create_queue(q.path(), {.capacity = 4096, .mode = mode});
      ::umask(old);
      struct stat st {};
      ASSERT_EQ(::stat(q.path().c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 07777, mode) << "umask " << std::oct << mask;
    }
  }
}

// Root bypasses file permissions: the checks that concern other users run in a child that
// drops to uid/gid 65534 (nobody).
bool can_drop_privileges() { return ::geteuid() == 0; }

int as_nobody(const std::function<int()>& body) {
  test::ChildProcess child([&] {
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) return 90;
    return body();
  });
  const int status = child.wait();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

TEST(FileSafety, UnwritableDirectory) {
  if (!can_drop_privileges()) GTEST_SKIP() << "needs root to run a child as another user";
  TempQueue dir;
  std::filesystem::create_directory(dir.path());
  ::chmod(dir.path().c_str(), 0755);  // root's, not writable by nobody
  const auto path = dir.path() / "queue";
  const int rc = as_nobody([&] {
    try {
      create_queue(path);
      return 1;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::io || e.sys_errno() != EACCES) return 2;
      if (std::string(e.what()).find(path.string()) == std::string::npos) return 3;
      return 0;
    }
  });
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  std::filesystem::remove(dir.path());
}

TEST(FileSafety, FileOwnedByAnotherUser) {
  if (!can_drop_privileges()) GTEST_SKIP() << "needs root to chown";
  TempQueue q;
  create_queue(q.path(), {.capacity = 4096, .mode = 0666});
  ASSERT_EQ(::chown(q.path().c_str(), 65534, 65534), 0);
  expect_refused(q.path(), ErrorCode::foreign_owner, "owned by uid 65534");
  OpenOptions allow;
  allow.allow_other_owner = true;
  EXPECT_NO_THROW((void)Consumer::open(q.path(), allow));
  // And from the other side: nobody refuses root's queue.
  TempQueue mine;
  create_queue(mine.path(), {.capacity = 4096, .mode = 0666});
  const int rc = as_nobody([&] {
    try {
      (void)Consumer::open(mine.path());
      return 1;
    } catch (const Error& e) {
      return e.code() == ErrorCode::foreign_owner ? 0 : 2;
    }
  });
  EXPECT_EQ(rc, 0);
}

// A small full file system (tmpfs with a size limit): create fails cleanly, and a queue created
// before the disk filled up never raises SIGBUS, because its blocks were allocated at create.
TEST(FileSafety, DiskFull) {
  TempQueue dir("/tmp");
  std::filesystem::create_directory(dir.path());
  if (::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=1m") != 0) {
    std::filesystem::remove(dir.path());
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  struct Unmount {
    std::filesystem::path p;
    ~Unmount() {
      ::umount2(p.c_str(), MNT_DETACH);
      std::filesystem::remove(p);
    }
  } unmount{dir.path()};

  try {
    create_queue(dir.path() / "big", {.capacity = 2 * 1024 * 1024});
    FAIL() << "created a 2 MiB queue on a 1 MiB file system";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
    EXPECT_EQ(e.sys_errno(), ENOSPC) << e.what();
    EXPECT_NE(std::string(e.what()).find("big"), std::string::npos);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "a partial file was left behind";

  Producer p = Producer::create(dir.path() / "small", {.capacity = 256 * 1024});
  Consumer c = Consumer::open(dir.path() / "small");
  {  // fill the rest of the file system
    std::ofstream filler(dir.path() / "filler", std::ios::binary);
    const std::string block(64 * 1024, 'f');
    for (int i = 0; i < 64 && filler.write(block.data(), static_cast<std::streamsize>(block.size())); ++i) {
    }
  }
  const std::string m(1000, 'm');
  for (int i = 0; i < 2000; ++i) {  // several laps through every page of the ring
    ASSERT_TRUE(p.send(m));
    ASSERT_TRUE(c.try_receive());
    c.release();
  }
}

}  // namespace
}  // namespace shmq
