// shmq: create, inspect, watch, verify, dump, repair and remove shmq queue files.
#include <exception>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "diagnostics.hpp"
#include "shmq_sample/exit_codes.hpp"

int main(int argc, char** argv) {
  using namespace shmq::tool;
  CLI::App app{
      "shmq: create, inspect, watch, verify, dump and remove shmq queue files.\n"
      "Every command but create and remove opens the queue read-only and never writes to it.",
      "shmq"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the subcommand
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Also log the library's own messages (attach, create, ...)");
  app.set_version_flag("--version", SHMQ_TOOL_VERSION);
  app.footer(shmq_sample::kExitCodesHelp);
  const std::vector<Command> commands = {add_create(app), add_stat(app),   add_watch(app), add_verify(app),
                                         add_dump(app),   add_remove(app), add_repair(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  setup_logging(verbose);
  for (const Command& command : commands) {
    if (!command.app->parsed()) continue;
    try {
      return command.run();
    } catch (const std::exception& e) {
      return report(e);
    }
  }
  return kExitUsage;
}
