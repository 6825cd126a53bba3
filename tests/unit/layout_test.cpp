// Golden layout test: the shared layout is a file format. If one of these fails, the format
// changed: bump layout::kFormatVersion, update docs/FORMAT.md, then update the numbers here.
#include <gtest/gtest.h>

#include "layout.hpp"

namespace shmq::layout {
namespace {

TEST(Layout, IdentityOffsetsArePinned) {
  EXPECT_EQ(offsetof(Identity, magic), 0u);
  EXPECT_EQ(offsetof(Identity, format_version), 8u);
  EXPECT_EQ(offsetof(Identity, layout_id), 12u);
  EXPECT_EQ(offsetof(Identity, header_size), 16u);
  EXPECT_EQ(offsetof(Identity, flags), 20u);
  EXPECT_EQ(offsetof(Identity, capacity), 24u);
  EXPECT_EQ(offsetof(Identity, initial_position), 32u);
  EXPECT_EQ(offsetof(Identity, created_unix_ns), 40u);
  EXPECT_EQ(offsetof(Identity, instance_id), 48u);
  EXPECT_EQ(offsetof(Identity, checkpoint_bytes), 56u);
  EXPECT_EQ(offsetof(Identity, checkpoint_interval_ms), 64u);
  EXPECT_EQ(offsetof(Identity, checksum), 120u);
  EXPECT_EQ(sizeof(Identity), 128u);
}

TEST(Layout, HotFieldsSitOnTheirOwnLinePairs) {
  EXPECT_EQ(offsetof(Header, producer), 128u);
  EXPECT_EQ(offsetof(Header, consumer), 256u);
  EXPECT_EQ(offsetof(Header, data_ready), 384u);
  EXPECT_EQ(offsetof(Header, space_ready), 512u);
  EXPECT_EQ(offsetof(Header, producer) + offsetof(RoleLine, position), 128u);
  EXPECT_EQ(offsetof(Header, consumer) + offsetof(RoleLine, position), 256u);
  EXPECT_EQ(offsetof(RoleLine, sequence), 8u);
  EXPECT_EQ(offsetof(RoleLine, attach_count), 16u);
  EXPECT_EQ(offsetof(RoleLine, pid), 24u);
  EXPECT_EQ(offsetof(RoleLine, attached), 28u);
  EXPECT_EQ(offsetof(RoleLine, fencing), 32u);
  EXPECT_EQ(offsetof(RoleLine, fencing_errno), 36u);
  EXPECT_EQ(kFencingFull, 0u);
  EXPECT_EQ(kFencingMembarrier, 1u);
  EXPECT_EQ(offsetof(WaitLine, epoch), 0u);
  EXPECT_EQ(offsetof(WaitLine, waiting), 4u);
  EXPECT_EQ(offsetof(Header, boot), 640u);
  EXPECT_EQ(offsetof(BootLine, recoveries), 16u);
  EXPECT_EQ(sizeof(Header), 16384u);
}

TEST(Layout, CheckpointSlotsHaveAPageEach) {
  EXPECT_EQ(offsetof(Header, slot0), 4096u);
  EXPECT_EQ(offsetof(Header, slot1), 8192u);
  EXPECT_EQ(sizeof(Checkpoint), 64u);
  EXPECT_EQ(offsetof(Checkpoint, write_position), 8u);
  EXPECT_EQ(offsetof(Checkpoint, write_sequence), 16u);
  EXPECT_EQ(offsetof(Checkpoint, read_position), 24u);
  EXPECT_EQ(offsetof(Checkpoint, unix_ns), 32u);
  EXPECT_EQ(offsetof(Checkpoint, instance_id), 40u);
  EXPECT_EQ(offsetof(Checkpoint, checksum), 56u);
}

TEST(Layout, RecordFraming) {
  EXPECT_EQ(sizeof(RecordHeader), 16u);
  EXPECT_EQ(offsetof(RecordHeader, checksum), 4u);
  EXPECT_EQ(offsetof(RecordHeader, commit), 8u);
  EXPECT_EQ(kCommitted, 0x8000'0000'0000'0000ull);
  EXPECT_EQ(record_size(0), 16u);
  EXPECT_EQ(record_size(1), 24u);
  EXPECT_EQ(record_size(8), 24u);
  EXPECT_EQ(record_size(9), 32u);
  EXPECT_EQ(kPaddingBit, 0x8000'0000u);
}

TEST(Layout, LayoutIdIsPinned) {
  EXPECT_EQ(kMagic, 0x3130514D48537F00ull);
  EXPECT_EQ(kFormatVersion, 2u);
  EXPECT_EQ(kLayoutId, compute_layout_id());
  EXPECT_EQ(kLayoutId, 0x16317C72u) << "the layout fingerprint changed: bump kFormatVersion";
}

}  // namespace
}  // namespace shmq::layout
