// Sends one message to itself through an installed shmq and checks it arrives.
#include <cstdio>
#include <filesystem>

#include <shmq/shmq.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::filesystem::path path = argv[1];
  shmq::Producer producer = shmq::Producer::create(path, {.capacity = 64 * 1024});
  shmq::Consumer consumer = shmq::Consumer::open(path);
  const bool sent = static_cast<bool>(producer.send("hello from an installed shmq"));
  shmq::Result<shmq::Message> m = consumer.try_receive();
  std::filesystem::remove(path);
  if (!sent || !m || m->text() != "hello from an installed shmq") {
    std::fprintf(stderr, "shmq_user: message did not arrive\n");
    return 1;
  }
  std::printf("shmq_user: received \"%.*s\" as message %llu\n", static_cast<int>(m->text().size()), m->text().data(),
              static_cast<unsigned long long>(m->sequence));
  return 0;
}
