#include "shmq/log/drop_counter.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shmq/error.hpp"

namespace shmq::log {
namespace {

constexpr char kMagic[8] = {'s', 'h', 'm', 'q', 'd', 'r', 'o', 'p'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kVersionAt = 8;
constexpr std::size_t kDroppedAt = 16;
constexpr std::size_t kFirstAt = 24;
constexpr std::size_t kLastAt = 32;

std::atomic_ref<std::uint64_t> word(void* mapping, std::size_t at) noexcept {
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(static_cast<char*>(mapping) + at));
}

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& cause, int err) {
  throw Error(ErrorCode::io, path, cause, err);
}

}  // namespace

DropCounter DropCounter::create(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) throw Error(ErrorCode::already_exists, path, "a file already exists at the path", errno);
    fail(path, "cannot create the drop counter", errno);
  }
  unsigned char header[kDropCounterSize] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  std::memcpy(header + kVersionAt, &kVersion, sizeof kVersion);
  if (::pwrite(fd, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) {
    const int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    fail(path, "cannot write the drop counter", err);
  }
  void* mapping = ::mmap(nullptr, kDropCounterSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file
  if (mapping == MAP_FAILED) {
    ::unlink(path.c_str());
    fail(path, "cannot map the drop counter", err);
  }
  DropCounter counter;
  counter.mapping_ = mapping;
  return counter;
}

DropCounter::DropCounter(DropCounter&& other) noexcept : mapping_(std::exchange(other.mapping_, nullptr)) {}

DropCounter& DropCounter::operator=(DropCounter&& other) noexcept {
  if (this != &other) {
    if (mapping_ != nullptr) ::munmap(mapping_, kDropCounterSize);
    mapping_ = std::exchange(other.mapping_, nullptr);
  }
  return *this;
}

DropCounter::~DropCounter() {
  if (mapping_ != nullptr) ::munmap(mapping_, kDropCounterSize);
}

void DropCounter::add(std::uint64_t now_unix_ns) noexcept {
  if (mapping_ == nullptr) return;
  if (word(mapping_, kFirstAt).load(std::memory_order_relaxed) == 0) {
    word(mapping_, kFirstAt).store(now_unix_ns, std::memory_order_relaxed);
  }
  word(mapping_, kLastAt).store(now_unix_ns, std::memory_order_relaxed);
  const std::uint64_t dropped = word(mapping_, kDroppedAt).load(std::memory_order_relaxed);
  // Release: pairs with nothing in-process (the reader is another process reading by pread); it
  // keeps the compiler from moving the time stores after the count a reader trusts.
  word(mapping_, kDroppedAt).store(dropped + 1, std::memory_order_release);
}

std::uint64_t DropCounter::dropped() const noexcept {
  return mapping_ == nullptr ? 0 : word(mapping_, kDroppedAt).load(std::memory_order_relaxed);
}

DropCountRead read_drop_count(const std::filesystem::path& path) {
  DropCountRead out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    out.error = errno == ENOENT ? "no drop counter file" : std::string("cannot open: ") + std::strerror(errno);
    return out;
  }
  struct stat st {};
  unsigned char first[kDropCounterSize];
  unsigned char second[kDropCounterSize];
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    out.error = "not a regular file";
  } else {
    // A writer may be storing while we read: keep a read only when two in a row agree.
    for (int attempt = 0; attempt < 100 && out.error.empty() && !out.count; ++attempt) {
      if (::pread(fd, first, sizeof first, 0) != static_cast<ssize_t>(sizeof first) ||
          ::pread(fd, second, sizeof second, 0) != static_cast<ssize_t>(sizeof second)) {
        out.error = "shorter than a drop counter";
      } else if (std::memcmp(first, second, sizeof first) == 0) {
        std::uint32_t version = 0;
        std::memcpy(&version, first + kVersionAt, sizeof version);
        if (std::memcmp(first, kMagic, sizeof kMagic) != 0) {
          out.error = "not a drop counter (bad magic)";
        } else if (version != kVersion) {
          out.error = "unknown drop counter version " + std::to_string(version);
        } else {
          DropCount c;
          std::memcpy(&c.dropped, first + kDroppedAt, 8);
          std::memcpy(&c.first_drop_unix_ns, first + kFirstAt, 8);
          std::memcpy(&c.last_drop_unix_ns, first + kLastAt, 8);
          out.count = c;
        }
      }
    }
    if (!out.count && out.error.empty()) out.error = "changing too fast to read";
  }
  ::close(fd);
  return out;
}

}  // namespace shmq::log
