// libFuzzer target: an arbitrary byte image of a queue file is opened, recovered and drained.
//
// The input is the content of a queue file (the seed corpus in fuzz/corpus holds real ones, see
// make_corpus.cpp). Each input is written to a private file under /dev/shm and then:
//   1. opened as a Consumer (recovery runs first when the boot id differs) and drained with
//      try_receive and poll until would_block or an error;
//   2. opened as a Producer, which sends one message and, on a durable queue, syncs;
//   3. read once more by the consumer (the producer's new record);
//   4. walked on the heap: the same image, copied into a buffer of exactly its size, goes through
//      the ring reader, the checkpoint slots, the recovery scan and the ring writer directly, so
//      AddressSanitizer sees any read or write outside the queue's bytes (outside a mapping it
//      could only see a read that leaves every mapping).
// The library may refuse the file or report corruption (shmq::Error); anything else that escapes
// (another exception, a crash, a hang, a sanitizer report) is a finding.
//
// Page 3 of the header is reserved and never read by the library; its first byte steers the run
// (a zero byte, as in every real file, means the defaults):
//   bit 0  0: the machine "rebooted" (the fake boot id differs from the image's): recovery runs
//          1: same boot: no recovery, the positions are taken as found
//   bit 1  0: recompute the identity checksum, so mutated identity fields reach the deeper code
//   bit 2  0: resize the file to header + capacity (capacity <= 64 KiB), padding with zeros
//   bit 3  1: skip the producer
#include <array>
#include <bit>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "checkpoint.hpp"
#include "checksum.hpp"
#include "layout.hpp"
#include "queue_file.hpp"
#include "ring.hpp"
#include "ring_reader.hpp"
#include "ring_writer.hpp"
#include "shmq/shmq.hpp"
#include "system.hpp"

namespace {

namespace layout = shmq::layout;
namespace detail = shmq::detail;

constexpr std::size_t kControlOffset = 3 * layout::kPageSize;  // page 3: reserved, never read
constexpr std::uint8_t kSameBoot = 1u << 0;
constexpr std::uint8_t kKeepChecksum = 1u << 1;
constexpr std::uint8_t kKeepSize = 1u << 2;
constexpr std::uint8_t kNoProducer = 1u << 3;
constexpr std::uint64_t kMaxResize = 64 * 1024;  // capacity up to which the file is resized
constexpr std::size_t kBootOffset = offsetof(layout::Header, boot);

// The system-call seam with a boot id chosen per input; the rest forwards to the real calls.
class FuzzSystem final : public detail::System {
 public:
  int msync(void* address, std::size_t length) override { return detail::real_system().msync(address, length); }
  int fsync(int fd) override { return detail::real_system().fsync(fd); }
  int fallocate(int fd, off_t offset, off_t length) override {
    return detail::real_system().fallocate(fd, offset, length);
  }
  int pwrite(int fd, const void* data, std::size_t length, off_t offset) override {
    return detail::real_system().pwrite(fd, data, length, offset);
  }
  int boot_id(detail::BootId& out) override {
    out = boot;
    return 0;
  }
  detail::BootId boot{};
};

constexpr const char* kFilePrefix = "shmq-fuzz-";

// libFuzzer ends with _Exit (no atexit handlers): remove the files of fuzzers no longer running.
void remove_stale_files() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kFilePrefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + std::strlen(kFilePrefix), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) std::filesystem::remove(entry.path(), ec);
  }
}

struct Globals {
  Globals() {
    remove_stale_files();
    path = std::string("/dev/shm/") + kFilePrefix + std::to_string(::getpid());
    ::unlink(path.c_str());
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      std::perror(path.c_str());
      std::abort();
    }
    detail::install_system(&system);
    shmq::logger()->set_level(spdlog::level::off);
    std::atexit([] { ::unlink(Globals::instance().path.c_str()); });
  }
  static Globals& instance() {
    static Globals g;
    return g;
  }
  std::string path;
  int fd = -1;
  FuzzSystem system;
};

// Rewrites the queue file with `bytes`.
void write_image(const Globals& g, const std::vector<std::uint8_t>& bytes) {
  if (::ftruncate(g.fd, 0) != 0) std::abort();
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(g.fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::abort();
    done += static_cast<std::size_t>(n);
  }
}

// Reads every payload byte: a span outside the mapping faults, one outside a heap buffer is reported.
std::uint64_t touch(std::span<const std::byte> bytes) {
  std::uint64_t sum = 0;
  for (std::byte b : bytes) sum += std::to_integer<std::uint8_t>(b);
  return sum;
}

volatile std::uint64_t g_sink = 0;

void run_library(const Globals& g, std::uint8_t control, std::uint64_t capacity, bool durable) {
  const std::byte payload[24] = {std::byte{0x5a}};
  std::unique_ptr<shmq::Consumer> consumer;
  try {
    consumer = std::make_unique<shmq::Consumer>(shmq::Consumer::open(g.path));
  } catch (const shmq::Error&) {
    return;  // refused: fine
  }
  const auto drain = [&] {
    try {
      for (int round = 0; round < 2; ++round) {
        for (;;) {
          shmq::Result<shmq::Message> m = consumer->try_receive();
          if (!m) break;
          if (m->bytes.size() > capacity) std::abort();
          g_sink = g_sink + touch(m->bytes);
        }
        consumer->release();
        (void)consumer->poll([](const shmq::Message& m) { g_sink = g_sink + touch(m.bytes); });
      }
    } catch (const shmq::Error& e) {
      if (e.code() != shmq::ErrorCode::peer_broke_protocol)
        std::abort();  // only a broken record or position, during a drain
      try {
        (void)consumer->try_receive();
        std::abort();  // corruption is sticky
      } catch (const shmq::Error& again) {
        if (again.code() != shmq::ErrorCode::peer_broke_protocol) std::abort();
      }
    }
  };
  drain();
  (void)consumer->watermarks();

  if ((control & kNoProducer) == 0) {
    try {
      shmq::OpenOptions options;
      options.checkpoints = shmq::CheckpointPolicy{0, std::chrono::milliseconds(0)};  // explicit only: no thread
      shmq::Producer producer = shmq::Producer::open(g.path, options);
      (void)producer.try_send(std::span<const std::byte>(payload, sizeof payload));
      if (durable) (void)producer.sync();
      (void)producer.watermarks();
    } catch (const shmq::Error&) {
      // refused, corrupt, or a sticky checkpoint failure: all reported through shmq::Error
    }
    drain();
  }
}

// The same image on the heap, exactly header + capacity bytes: ASan bounds every access.
void run_on_heap(const std::vector<std::uint8_t>& image, const layout::Identity& id) {
  const std::size_t size = image.size();
  std::unique_ptr<std::uint64_t[]> storage(new std::uint64_t[size / 8]);  // 8-aligned, exact size
  std::memcpy(storage.get(), image.data(), size);
  detail::RingView view;
  view.header = reinterpret_cast<layout::Header*>(storage.get());
  view.data = reinterpret_cast<std::byte*>(storage.get()) + layout::kHeaderSize;
  view.capacity = id.capacity;
  view.checksums = (id.flags & layout::kFlagChecksums) != 0;

  detail::LivePositions live;
  try {
    live = detail::read_live_positions(view, {});
    detail::RingReader reader(view, live.read, live.read_sequence);
    shmq::Message m;
    while (reader.try_read(m)) g_sink = g_sink + touch(m.bytes);
    (void)reader.release();
  } catch (const shmq::Error&) {
  }

  // What recovery does with the checkpoint slots, on the heap.
  if (const auto c = detail::newest_checkpoint(*view.header, id)) {
    const detail::Scan durable = detail::scan_records(view, c->read_position, c->write_position, c->write_sequence);
    (void)durable;
    const detail::Scan tail =
        detail::scan_records(view, c->write_position, c->read_position + view.capacity, c->write_sequence);
    g_sink = g_sink + tail.messages;
  }

  // The writer on whatever positions the file holds (validated first, as attach does).
  try {
    live = detail::read_live_positions(view, {});
    detail::RingWriter writer(view, live.write, live.read, 0);
    for (std::uint64_t length : {std::uint64_t{0}, std::uint64_t{13}, view.capacity / 3, writer.max_length()}) {
      if (std::byte* p = writer.try_reserve(length)) {
        std::memset(p, 0xa5, length);
        writer.commit(length);
      }
    }
    (void)writer.publish();
  } catch (const shmq::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Globals& g = Globals::instance();
  std::vector<std::uint8_t> image(data, data + size);
  const std::uint8_t control = size > kControlOffset ? image[kControlOffset] : 0;

  layout::Identity id{};
  const bool has_identity = size >= sizeof id;
  if (has_identity) {
    std::memcpy(&id, image.data(), sizeof id);
    if ((control & kKeepChecksum) == 0) {
      id.checksum = detail::bytes_checksum(&id.format_version, offsetof(layout::Identity, checksum) - 8);
      std::memcpy(image.data(), &id, sizeof id);
    }
    if ((control & kKeepSize) == 0 && std::has_single_bit(id.capacity) && id.capacity >= layout::kMinCapacity &&
        id.capacity <= kMaxResize) {
      image.resize(layout::kHeaderSize + id.capacity, 0);
    }
  }

  // The boot id: the image's own (same boot) or another one (recovery runs).
  if (image.size() >= kBootOffset + g.system.boot.size()) {
    std::memcpy(g.system.boot.data(), image.data() + kBootOffset, g.system.boot.size());
  } else {
    g.system.boot.fill(0);
  }
  if ((control & kSameBoot) == 0) g.system.boot[0] = static_cast<std::uint8_t>(g.system.boot[0] ^ 0x80);

  write_image(g, image);
  const bool durable = has_identity && (id.flags & layout::kFlagDurable) != 0;
  run_library(g, control, has_identity ? id.capacity : 0, durable);

  // The heap pass needs an image the library would accept as a queue (its checks are the gate).
  if (has_identity) {
    try {
      detail::validate_identity(id, image.size(), "heap");
      run_on_heap(image, id);
    } catch (const shmq::Error&) {
    }
  }
  return 0;
}
