#include "log_level.hpp"

#include <array>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

#include <shmq/log.hpp>

namespace shmq_python {

namespace py = pybind11;
using namespace pybind11::literals;

void register_log_level(py::module_& module) {
  module.def(
      "set_log_level",
      [](const std::string& name) {
        static constexpr std::array<std::pair<const char*, spdlog::level::level_enum>, 7> kLevels{{
            {"trace", spdlog::level::trace},
            {"debug", spdlog::level::debug},
            {"info", spdlog::level::info},
            {"warning", spdlog::level::warn},
            {"error", spdlog::level::err},
            {"critical", spdlog::level::critical},
            {"off", spdlog::level::off},
        }};
        for (const auto& [level_name, level] : kLevels) {
          if (name == level_name) {
            shmq::logger()->set_level(level);
            return;
          }
        }
        throw py::value_error("unknown log level '" + name + "': trace, debug, info, warning, error, critical or off");
      },
      "level"_a,
      R"(Sets how much the library logs to stderr: 'trace', 'debug', 'info' (the default: attach,
detach, peer gone), 'warning', 'error', 'critical' or 'off'. Logging never happens on the hot path.)");
}

}  // namespace shmq_python
