// The scenario behind the tests of a durable producer that re-opens a queue after its
// predecessor's checkpoint never reached the disk (tests/durability/reopen_test.cpp and the
// failpoint tests): a second producer runs until the power fails, then recovery from the disk
// model (support/disk_image.hpp) must keep everything acknowledged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "shmq/shmq.hpp"
#include "support/disk_image.hpp"

namespace shmq::test {

inline constexpr CheckpointPolicy kExplicitOnly{.bytes = 0, .interval = std::chrono::milliseconds(0)};

// A small durable queue (16 KiB) that checkpoints only when asked.
CreateOptions small_durable_queue();
// The payload of message `seq`: about 190 bytes, derived from the number.
std::string reopen_text(std::uint64_t seq);
void send_ten(Producer& p);
void drain(Consumer& c);

// The second producer drains the first one's last messages, then sends until the ring would wrap
// over what its predecessor's durable checkpoint still needs; the power goes off at the checkpoint
// slot's msync of the checkpoint it then takes, after its ring bytes reached the disk.
void second_producer_runs_until_the_power_fails(const std::filesystem::path& path, DiskImage& disk);

// After the power loss (the disk image copied to `disk_copy`): recovery must succeed and deliver
// everything acknowledged, valid and in order.
void recover_and_check(const std::filesystem::path& disk_copy, std::uint64_t acknowledged);

}  // namespace shmq::test
