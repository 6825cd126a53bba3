// shmq repair PATH: the explicit act for a queue that opening refuses (both checkpoint slots
// invalid, durable records damaged) or that holds a corrupt record: keeps every valid record up to
// the first invalid one, clears the rest and writes a fresh checkpoint (shmq::repair_queue).
#include <iostream>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "diagnostics.hpp"
#include "shmq/queue.hpp"

namespace shmq::tool {

Command add_repair(CLI::App& app) {
  auto* sub =
      app.add_subcommand("repair",
                         "Repair a damaged queue: keep the valid records up to the first invalid one, clear the "
                         "rest (those messages are lost), write a fresh checkpoint. Refuses while a producer "
                         "or consumer is attached.");
  auto args = std::make_shared<QueueArgs>();
  auto next_sequence = std::make_shared<std::uint64_t>(0);
  add_queue_args(*sub, *args);
  CLI::Option* given =
      sub->add_option("--next-sequence", *next_sequence,
                      "Where the sequence continues, when repair cannot tell (it refuses and says why): at least every "
                      "number the file shows was handed out. Past the last valid record, no record is kept.");
  return {sub, [args, next_sequence, given] {
            OpenOptions options;
            options.allow_other_owner = args->any_owner;
            const RecoveryReport r = repair_queue(
                args->path, options,
                RepairOptions{given->count() > 0 ? std::optional<std::uint64_t>(*next_sequence) : std::nullopt});
            std::cout << "repaired " << args->path << ": messages " << r.read_sequence << ".." << r.next_sequence
                      << " kept (" << r.recovered_messages << "), " << r.discarded_bytes << " ring bytes cleared; "
                      << "the scan stopped: " << r.stopped_because << "\n";
            return 0;
          }};
}

}  // namespace shmq::tool
