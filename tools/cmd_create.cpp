// shmq create PATH --capacity SIZE [--mode 0600] [--checksums]
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "diagnostics.hpp"
#include "layout.hpp"
#include "shmq/queue.hpp"
#include "units.hpp"

namespace shmq::tool {

Command add_create(CLI::App& app) {
  struct Options {
    std::string path;
    std::uint64_t capacity = 0;
    std::string mode = "0600";
    bool checksums = false;
    bool durable = false;
    std::uint64_t checkpoint_bytes = 0;
    long checkpoint_interval_ms = -1;  // -1: the library's default
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("create", "Create a queue file (exclusively: never replaces anything)");
  sub->add_option("path", o->path, "Where to create it, e.g. /dev/shm/orders")->required();
  sub->add_option(
         "--capacity", o->capacity,
         "Ring size: a power of two from 4KiB to 1TiB, with a unit: 64KiB, 16MiB, 1GiB (K, M, G are 1024-based)")
      ->required()
      ->transform(CLI::AsSizeValue(false));
  sub->add_option("--mode", o->mode, "File mode in octal, applied exactly (the umask does not change it)")
      ->capture_default_str();
  sub->add_flag("--checksums", o->checksums,
                "Every record carries a checksum, checked by the consumer and by verify (default: on for --durable)");
  CLI::Option* durable = sub->add_flag(
      "--durable", o->durable,
      "Durable mode: the producer keeps msync checkpoints, so the queue survives an OS crash or power loss up to "
      "its last checkpoint (use a file system that keeps files across reboots, not /dev/shm)");
  sub->add_option("--checkpoint-bytes", o->checkpoint_bytes,
                  "With --durable: checkpoint after this many bytes are published (0: off), e.g. 4MiB")
      ->needs(durable)
      ->transform(CLI::AsSizeValue(false));
  sub->add_option("--checkpoint-interval", o->checkpoint_interval_ms,
                  "With --durable: checkpoint this often, in milliseconds (0: off; default: the library's)")
      ->needs(durable)
      ->check(CLI::Range(0L, 86'400'000L));
  sub->footer(
      "Without --durable a queue lives in the page cache: it survives the death of either process, not an OS "
      "crash or a reboot. Producers may override the checkpoint policy when they open the queue.");

  return {sub, [o] {
            const std::optional<mode_t> mode = parse_mode(o->mode);
            if (!mode) {
              log().error("{}: --mode {} is not an octal file mode (like 0600 or 0640)", o->path, o->mode);
              return kExitUsage;
            }
            CreateOptions options;
            options.capacity = o->capacity;
            options.mode = *mode;
            if (o->checksums) options.checksums = true;  // otherwise the library's default (on when durable)
            options.durable = o->durable;
            if (o->durable) {
              options.checkpoints.bytes = o->checkpoint_bytes;
              if (o->checkpoint_interval_ms >= 0)
                options.checkpoints.interval = std::chrono::milliseconds(o->checkpoint_interval_ms);
            }
            create_queue(o->path, options);
            std::cout << fmt::format("created {}: capacity {} ({} bytes), file {} bytes, mode {:04o}, checksums {}{}\n",
                                     o->path, format_size(options.capacity), options.capacity,
                                     layout::kHeaderSize + options.capacity, static_cast<unsigned>(options.mode),
                                     o->checksums || o->durable ? "on" : "off", o->durable ? ", durable" : "");
            return kExitOk;
          }};
}

}  // namespace shmq::tool
