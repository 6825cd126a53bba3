// shmq create PATH --capacity SIZE [--mode 0600] [--checksums]
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "diagnostics.hpp"
#include "layout.hpp"
#include "shmq/producer.hpp"
#include "units.hpp"

namespace shmq::tool {

Command add_create(CLI::App& app) {
  struct Options {
    std::string path;
    std::uint64_t capacity = 0;
    std::string mode = "0600";
    bool checksums = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("create", "Create a queue file (exclusively: never replaces anything)");
  sub->add_option("path", o->path, "Where to create it, e.g. /dev/shm/orders")->required();
  sub->add_option("--capacity", o->capacity,
                  "Ring size: a power of two from 4KiB to 1TiB, with a unit: 64KiB, 16MiB, 1GiB (K, M, G are 1024-based)")
      ->required()
      ->transform(CLI::AsSizeValue(false));
  sub->add_option("--mode", o->mode, "File mode in octal, applied exactly (the umask does not change it)")
      ->capture_default_str();
  sub->add_flag("--checksums", o->checksums, "Every record carries a checksum, checked by the consumer and by verify");
  sub->footer(
      "Durability: a format 1 queue lives in the page cache and survives the death of either process, not an OS "
      "crash or a reboot. Durable mode (checkpoints synced to disk) comes with a later queue format; it has no "
      "options here yet.");

  return {sub, [o] {
            const std::optional<mode_t> mode = parse_mode(o->mode);
            if (!mode) {
              log().error("{}: --mode {} is not an octal file mode (like 0600 or 0640)", o->path, o->mode);
              return kExitUsage;
            }
            CreateOptions options;
            options.capacity = o->capacity;
            options.mode = *mode;
            options.checksums = o->checksums;
            create_queue(o->path, options);
            std::cout << fmt::format("created {}: capacity {} ({} bytes), file {} bytes, mode {:04o}, checksums {}\n",
                                     o->path, format_size(options.capacity), options.capacity,
                                     layout::kHeaderSize + options.capacity, static_cast<unsigned>(options.mode),
                                     o->checksums ? "on" : "off");
            return kExitOk;
          }};
}

}  // namespace shmq::tool
