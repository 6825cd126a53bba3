// The shared layout of a queue file: the one place that says where every shared byte lives.
// docs/FORMAT.md describes the same layout for humans; tests/layout_test.cpp pins it.
//
// Everything here lives in a MAP_SHARED mapping that another, untrusted process also writes.
// Only offsets and positions are stored, never pointers. Multi-byte fields are little-endian
// (the machine's order; shmq refuses a file whose layout_id differs, which covers byte order).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <sys/types.h>

namespace shmq::layout {

inline constexpr std::uint64_t kMagic = 0x31'30'51'4D'48'53'7F'00;  // "\0\x7fSHMQ01" read as LE u64
inline constexpr std::uint32_t kFormatVersion = 2;                  // 2: readiness in the record header (commit word)
inline constexpr std::size_t kPageSize = 4096;
inline constexpr std::size_t kLine = 128;  // two 64-byte lines: the adjacent-line prefetcher pairs them
inline constexpr std::size_t kHeaderSize =
    4 * kPageSize;  // page 0: identity + roles; pages 1, 2: checkpoint slots; 3: reserved
inline constexpr std::size_t kRecordAlign = 8;
inline constexpr std::uint64_t kMinCapacity = 4096;
inline constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 40;  // 1 TiB

// Flags stored in Identity::flags. Unknown bits make open refuse the file.
inline constexpr std::uint32_t kFlagChecksums = 1u << 0;  // every record carries an XXH3-based checksum
inline constexpr std::uint32_t kFlagDurable = 1u << 1;    // the producer keeps msync checkpoints (pages 1, 2)
inline constexpr std::uint32_t kKnownFlags = kFlagChecksums | kFlagDurable;

// Byte offsets of the OFD role locks (advisory, never touch data).
inline constexpr off_t kProducerLockByte = 0;
inline constexpr off_t kConsumerLockByte = 1;
inline constexpr off_t kRecoveryLockByte = 2;  // held while a process recovers the file after a reboot

// Immutable after create. The magic is stored last (release) when the file is built, so a
// reader that sees the magic sees the rest; the file is renamed into place only after that.
struct Identity {
  std::uint64_t magic;             // kMagic
  std::uint32_t format_version;    // kFormatVersion
  std::uint32_t layout_id;         // kLayoutId of the binary that created it
  std::uint32_t header_size;       // kHeaderSize
  std::uint32_t flags;             // kFlag*
  std::uint64_t capacity;          // ring bytes, power of two in [kMinCapacity, kMaxCapacity]
  std::uint64_t initial_position;  // position of byte 0 of the first record (8-aligned; 0 unless testing wrap-around)
  std::uint64_t created_unix_ns;   // informative
  std::uint64_t instance_id;       // random; tells a re-created file from the one a peer had open
  std::uint64_t checkpoint_bytes;  // durable default policy: checkpoint after this many bytes (0: off)
  std::uint32_t checkpoint_interval_ms;  // durable default policy: checkpoint this often (0: off)
  std::uint8_t reserved[52];
  std::uint64_t checksum;  // XXH3-64 of bytes [8, 120): everything but the magic and itself
};

// One per role, on its own line pair. `position` is the only field the peer reads on the hot path.
struct RoleLine {
  // Producer: end of the last published record (write position).
  // Consumer: end of the last released record (read position).
  std::atomic<std::uint64_t> position;
  // Producer: sequence number the next message will get (informative: recomputed on attach).
  // Consumer: sequence number of the next message to read; stored before `position`.
  std::atomic<std::uint64_t> sequence;
  std::atomic<std::uint64_t> attach_count;  // attaches so far; 0 = the role was never taken
  std::atomic<std::uint32_t> pid;           // informative only: pids are reused and namespaced
  std::atomic<std::uint32_t> attached;      // 1 while attached; cleared on clean detach (liveness: the OFD lock)
  // How this role's holder orders its publication (producer) or release (consumer) before its
  // look at the peer's WaitLine: kFencingFull (a full fence, the peer parks as usual) or
  // kFencingMembarrier (a compiler barrier only: a parking peer must run membarrier first).
  // Set at attach, before the first publication; see waiting.hpp.
  std::atomic<std::uint32_t> fencing;
  std::atomic<std::uint32_t> fencing_errno;  // informative: why membarrier is not used (0: it is, or forced off)
  std::uint8_t reserved[kLine - 40];
};
inline constexpr std::uint32_t kFencingFull = 0;
inline constexpr std::uint32_t kFencingMembarrier = 1;

// An eventcount with one possible waiter: the waiter sets `waiting`, re-checks, and sleeps on
// `epoch`; the other side bumps `epoch` and calls FUTEX_WAKE only when `waiting` is set.
struct WaitLine {
  std::atomic<std::uint32_t> epoch;    // futex word (shared futex, keyed by inode + offset)
  std::atomic<std::uint32_t> waiting;  // 1 while the waiter is parked or about to park
  std::uint8_t reserved[kLine - 8];
};

// Which boot of the machine last attached to the file. A different boot id at open means the page
// cache of the file may have been lost (OS crash, power loss, reboot): recovery runs first.
struct BootLine {
  std::uint8_t boot_id[16];               // /proc/sys/kernel/random/boot_id of that boot
  std::atomic<std::uint64_t> recoveries;  // recoveries run on this file (informative)
  std::uint8_t reserved[kLine - 24];
};

// A durable checkpoint: everything before write_position was made durable (msync) before this
// slot was written, and the slot itself was synced after. Slot n % 2 holds checkpoint n.
struct Checkpoint {
  std::uint64_t counter;         // 1, 2, 3, ...; 0 = never written
  std::uint64_t write_position;  // durable end of the published records
  std::uint64_t write_sequence;  // sequence of the next message after write_position
  std::uint64_t read_position;   // consumer's released position at the checkpoint
  std::uint64_t unix_ns;         // when it was taken (informative)
  std::uint64_t instance_id;     // Identity::instance_id: a slot copied from another file never validates
  std::uint64_t reserved;
  std::uint64_t checksum;  // XXH3-64 of the 56 bytes before it
};

struct Header {
  Identity identity;     // offset 0
  RoleLine producer;     // offset 128
  RoleLine consumer;     // offset 256
  WaitLine data_ready;   // offset 384: the consumer waits here for data
  WaitLine space_ready;  // offset 512: the producer waits here for free space
  BootLine boot;         // offset 640
  std::uint8_t reserved0[kPageSize - 768];
  Checkpoint slot0;  // offset 4096 (page 1)
  std::uint8_t reserved1[kPageSize - sizeof(Checkpoint)];
  Checkpoint slot1;                                            // offset 8192 (page 2)
  std::uint8_t reserved2[2 * kPageSize - sizeof(Checkpoint)];  // page 3: room to grow
};

// Every record starts at an 8-aligned position and is contiguous in the ring:
//   length: payload bytes; kPaddingBit set = padding up to the end of the ring (payload ignored)
//   checksum: with kFlagChecksums, low 32 bits of record_checksum(); else 0
//   commit: kCommitted | the message's sequence number (padding: the sequence of the next
//     message), stored last with release: the record is published when its commit word is.
//     0 = not published yet. Before a record is published, the commit word where the next one
//     will start has been zeroed, so a reader never finds anything but 0 or the real record there.
// When fewer than sizeof(RecordHeader) bytes remain before the end of the ring, they are skipped
// without a header (implicit padding): the next record starts at the next lap.
struct RecordHeader {
  std::uint32_t length;
  std::uint32_t checksum;
  std::uint64_t commit;
};
inline constexpr std::uint32_t kPaddingBit = 0x8000'0000u;
inline constexpr std::uint32_t kMaxLength = kPaddingBit - 1;
inline constexpr std::uint64_t kCommitted = std::uint64_t{1} << 63;  // sequences stay below 2^63
inline constexpr std::size_t kCommitOffset = 8;                      // of the commit word in a record

constexpr std::uint64_t align_up(std::uint64_t n) { return (n + kRecordAlign - 1) & ~std::uint64_t{kRecordAlign - 1}; }
// Bytes a message of `length` payload bytes occupies in the ring.
constexpr std::uint64_t record_size(std::uint64_t length) { return align_up(sizeof(RecordHeader) + length); }

// ---- pinned layout: changing any of these changes the file format (bump kFormatVersion) ----
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint64_t>) == 8 && alignof(std::atomic<std::uint64_t>) == 8);
static_assert(sizeof(std::atomic<std::uint32_t>) == 4 && alignof(std::atomic<std::uint32_t>) == 4);
static_assert(std::is_standard_layout_v<Header> && std::is_standard_layout_v<RecordHeader>);
static_assert(sizeof(Identity) == kLine && offsetof(Identity, checksum) == 120);
static_assert(offsetof(Identity, format_version) == 8 && offsetof(Identity, layout_id) == 12);
static_assert(offsetof(Identity, header_size) == 16 && offsetof(Identity, flags) == 20);
static_assert(offsetof(Identity, capacity) == 24 && offsetof(Identity, initial_position) == 32);
static_assert(offsetof(Identity, created_unix_ns) == 40 && offsetof(Identity, instance_id) == 48);
static_assert(sizeof(RoleLine) == kLine && offsetof(RoleLine, sequence) == 8);
static_assert(offsetof(RoleLine, attach_count) == 16 && offsetof(RoleLine, pid) == 24 &&
              offsetof(RoleLine, attached) == 28);
static_assert(offsetof(RoleLine, fencing) == 32 && offsetof(RoleLine, fencing_errno) == 36);
static_assert(sizeof(WaitLine) == kLine && offsetof(WaitLine, waiting) == 4);
static_assert(offsetof(Header, producer) == 128 && offsetof(Header, consumer) == 256);
static_assert(offsetof(Header, data_ready) == 384 && offsetof(Header, space_ready) == 512);
static_assert(offsetof(Header, boot) == 640 && sizeof(BootLine) == kLine && offsetof(BootLine, recoveries) == 16);
static_assert(offsetof(Header, slot0) == kPageSize && offsetof(Header, slot1) == 2 * kPageSize);
static_assert(sizeof(Checkpoint) == 64 && offsetof(Checkpoint, checksum) == 56);
static_assert(offsetof(Checkpoint, write_position) == 8 && offsetof(Checkpoint, write_sequence) == 16 &&
              offsetof(Checkpoint, read_position) == 24 && offsetof(Checkpoint, unix_ns) == 32 &&
              offsetof(Checkpoint, instance_id) == 40);
static_assert(offsetof(Identity, checkpoint_bytes) == 56 && offsetof(Identity, checkpoint_interval_ms) == 64);
static_assert(sizeof(Header) == kHeaderSize && alignof(Header) <= kPageSize);
static_assert(sizeof(RecordHeader) == 16 && alignof(RecordHeader) == 8 &&
              offsetof(RecordHeader, commit) == kCommitOffset);
static_assert(kHeaderSize % kPageSize == 0 && kMinCapacity % kPageSize == 0);

// A fingerprint of the layout as this binary compiled it: FNV-1a over every size and offset above.
// A file whose layout_id differs was written by an incompatible build and is refused.
consteval std::uint32_t compute_layout_id() {
  constexpr std::uint64_t facts[] = {kFormatVersion,
                                     kHeaderSize,
                                     kLine,
                                     kRecordAlign,
                                     sizeof(Identity),
                                     sizeof(RoleLine),
                                     sizeof(WaitLine),
                                     sizeof(RecordHeader),
                                     offsetof(Header, producer),
                                     offsetof(Header, consumer),
                                     offsetof(Header, data_ready),
                                     offsetof(Header, space_ready),
                                     offsetof(RoleLine, attach_count),
                                     offsetof(RoleLine, pid),
                                     offsetof(RecordHeader, commit),
                                     kCommitted,
                                     offsetof(RoleLine, fencing),
                                     offsetof(RoleLine, fencing_errno),
                                     kPaddingBit,
                                     offsetof(Header, boot),
                                     offsetof(Header, slot0),
                                     offsetof(Header, slot1),
                                     sizeof(Checkpoint),
                                     offsetof(Identity, checkpoint_bytes),
                                     std::uint64_t{std::endian::native == std::endian::little}};
  std::uint32_t h = 2166136261u;
  for (std::uint64_t f : facts)
    for (int i = 0; i < 8; ++i) h = (h ^ static_cast<std::uint8_t>(f >> (8 * i))) * 16777619u;
  return h;
}
inline constexpr std::uint32_t kLayoutId = compute_layout_id();

}  // namespace shmq::layout
