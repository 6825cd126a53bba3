// Writes the fuzzer's seed corpus: real queue files of capacity 4096 (20480 bytes each) in states
// worth starting from. Run once, commit the output (fuzz/corpus):
//   shmq_make_corpus fuzz/corpus
// Byte 12288 (page 3, reserved) steers the fuzzer (see queue_image_fuzzer.cpp): 0 = recovery runs,
// 1 = same boot. The files are built under /dev/shm and copied, so their boot id is this machine's.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "layout.hpp"
#include "shmq/shmq.hpp"

namespace {

namespace fs = std::filesystem;
namespace layout = shmq::layout;

constexpr std::uint64_t kCapacity = 4096;
constexpr std::uint8_t kRecover = 0;
constexpr std::uint8_t kSameBoot = 1;

using Bytes = std::vector<char>;

fs::path g_out;
int g_counter = 0;

fs::path scratch() {
  return "/dev/shm/shmq-make-corpus-" + std::to_string(::getpid()) + "-" + std::to_string(g_counter++);
}

Bytes snapshot(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

template <class T>
T field(const Bytes& b, std::size_t offset) {
  T v{};
  std::memcpy(&v, b.data() + offset, sizeof v);
  return v;
}

void save(const std::string& name, Bytes bytes, std::uint8_t control) {
  if (bytes.size() != layout::kHeaderSize + kCapacity) throw std::runtime_error(name + ": unexpected size");
  bytes[3 * layout::kPageSize] = static_cast<char>(control);
  std::ofstream out(g_out / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + (g_out / name).string());
  std::cout << name << "\n";
}

std::string text(std::uint64_t i, std::size_t size) {
  std::string s(size, 'a');
  for (std::size_t k = 0; k < size; ++k) s[k] = static_cast<char>('a' + (i * 7 + k) % 26);
  return s;
}

shmq::CreateOptions options(bool durable, std::uint64_t initial_position = 0, std::optional<bool> checksums = {}) {
  shmq::CreateOptions o;
  o.capacity = kCapacity;
  o.durable = durable;
  o.checkpoints = shmq::CheckpointPolicy{0, std::chrono::milliseconds(0)};  // explicit sync() only
  o.initial_position = initial_position;
  o.checksums = checksums;
  return o;
}

// Sends and consumes `rounds` batches so the ring wraps (with padding records) several times.
void churn(shmq::Producer& p, shmq::Consumer& c, int rounds, bool durable) {
  std::uint64_t i = 0;
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < 5; ++k, ++i) (void)p.try_send(text(i, 40 + (i * 37) % 300));
    if (durable) (void)p.sync();
    (void)c.poll([](const shmq::Message&) {});
  }
}

void empty() {
  const fs::path q = scratch();
  { shmq::Producer p = shmq::Producer::create(q, options(false)); }
  save("empty", snapshot(q), kRecover);
  fs::remove(q);
}

void messages() {
  const fs::path q = scratch();
  shmq::Producer p = shmq::Producer::create(q, options(false));
  shmq::Consumer c = shmq::Consumer::open(q);
  for (std::uint64_t i = 0; i < 20; ++i) (void)p.send(text(i, (i * 29) % 180));
  for (int i = 0; i < 5; ++i) (void)c.try_receive();
  c.release();
  save("messages", snapshot(q), kSameBoot);
  fs::remove(q);
}

void wrapped_padding() {
  const fs::path q = scratch();
  shmq::Producer p = shmq::Producer::create(q, options(false, 0, true));
  shmq::Consumer c = shmq::Consumer::open(q);
  churn(p, c, 13, false);
  for (std::uint64_t i = 0; i < 8; ++i) (void)p.try_send(text(i, 150 + i * 20));  // live records across the wrap
  save("wrapped_padding", snapshot(q), kSameBoot);
  fs::remove(q);
}

void implicit_padding() {
  const fs::path q = scratch();
  shmq::Producer p =
      shmq::Producer::create(q, options(false, kCapacity - 8));  // 8 bytes before the end: no header fits
  shmq::Consumer c = shmq::Consumer::open(q);
  for (std::uint64_t i = 0; i < 6; ++i) (void)p.send(text(i, 10 * i));
  (void)c.try_receive();
  c.release();
  save("implicit_padding", snapshot(q), kSameBoot);
  fs::remove(q);
}

// Durable: checkpoints, a consumer position in them, and messages past the last checkpoint.
Bytes durable_image(const fs::path& q) {
  shmq::Producer p = shmq::Producer::create(q, options(true));
  shmq::Consumer c = shmq::Consumer::open(q);
  for (std::uint64_t i = 0; i < 30; ++i) (void)p.try_send(text(i, 20 + i));
  (void)p.sync();
  for (int i = 0; i < 10; ++i) (void)c.try_receive();
  c.release();
  (void)p.sync();
  for (std::uint64_t i = 30; i < 35; ++i) (void)p.try_send(text(i, 20 + i));
  return snapshot(q);  // as after a crash: both handles still attached
}

void durable() {
  const fs::path q = scratch();
  const Bytes b = durable_image(q);
  save("durable", b, kRecover);
  save("durable_same_boot", b, kSameBoot);
  fs::remove(q);
}

void durable_torn_tail() {
  const fs::path q = scratch();
  shmq::Producer p = shmq::Producer::create(q, options(true));
  for (std::uint64_t i = 0; i < 12; ++i) (void)p.try_send(text(i, 64));
  (void)p.sync();
  for (std::uint64_t i = 12; i < 15; ++i) (void)p.try_send(text(i, 64));
  const std::uint64_t last = field<std::uint64_t>(snapshot(q), offsetof(layout::Header, producer));
  (void)p.try_send(text(15, 64));
  Bytes b = snapshot(q);
  // The last record was only half written back before the power went: its payload is damaged.
  b[layout::kHeaderSize + (last & (kCapacity - 1)) + sizeof(layout::RecordHeader) + 40] ^= 0x55;
  save("durable_torn_tail", b, kRecover);
  fs::remove(q);
}

void durable_torn_slot() {
  const fs::path q = scratch();
  shmq::Producer p = shmq::Producer::create(q, options(true));
  for (std::uint64_t i = 0; i < 6; ++i) {
    (void)p.try_send(text(i, 100));
    (void)p.sync();
  }
  Bytes b = snapshot(q);
  const auto c0 = field<std::uint64_t>(b, offsetof(layout::Header, slot0));
  const auto c1 = field<std::uint64_t>(b, offsetof(layout::Header, slot1));
  const std::size_t newest = c0 > c1 ? offsetof(layout::Header, slot0) : offsetof(layout::Header, slot1);
  b[newest + offsetof(layout::Checkpoint, write_position)] ^= 0x08;  // torn: the checksum no longer matches
  save("durable_torn_slot", b, kRecover);
  fs::remove(q);
}

void durable_wrapped() {
  const fs::path q = scratch();
  shmq::Producer p = shmq::Producer::create(q, options(true));
  shmq::Consumer c = shmq::Consumer::open(q);
  churn(p, c, 17, true);
  for (std::uint64_t i = 0; i < 6; ++i) (void)p.try_send(text(i, 200));
  (void)p.sync();
  (void)p.try_send(text(7, 90));
  save("durable_wrapped", snapshot(q), kRecover);
  fs::remove(q);
}

void durable_wrap64() {
  const fs::path q = scratch();
  shmq::Producer p = shmq::Producer::create(
      q, options(true, std::uint64_t{0} - 2 * kCapacity - 8));  // two rings before 2^64, 8 bytes before a lap's end
  shmq::Consumer c = shmq::Consumer::open(q);
  churn(p, c, 22, true);
  for (std::uint64_t i = 0; i < 4; ++i) (void)p.try_send(text(i, 120));
  save("durable_wrap64", snapshot(q), kRecover);
  fs::remove(q);
}

void durable_full() {
  const fs::path q = scratch();
  shmq::Producer p = shmq::Producer::create(q, options(true));
  std::uint64_t i = 0;
  while (p.try_send(text(i, 1 + (i * 53) % 250))) ++i;
  (void)p.sync();
  save("durable_full", snapshot(q), kRecover);
  fs::remove(q);
}

void durable_no_checksums() {
  const fs::path q = scratch();
  shmq::Producer p = shmq::Producer::create(q, options(true, 0, false));
  shmq::Consumer c = shmq::Consumer::open(q);
  churn(p, c, 4, true);
  for (std::uint64_t i = 0; i < 5; ++i) (void)p.try_send(text(i, 33));
  save("durable_no_checksums", snapshot(q), kRecover);
  fs::remove(q);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUTPUT-DIR\n";
    return 2;
  }
  g_out = argv[1];
  shmq::logger()->set_level(spdlog::level::off);
  try {
    fs::create_directories(g_out);
    empty();
    messages();
    wrapped_padding();
    implicit_padding();
    durable();
    durable_torn_tail();
    durable_torn_slot();
    durable_wrapped();
    durable_wrap64();
    durable_full();
    durable_no_checksums();
  } catch (const std::exception& e) {
    std::cerr << "make_corpus: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
