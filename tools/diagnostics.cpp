#include "diagnostics.hpp"

#include <cstring>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "shmq/log.hpp"

namespace shmq::tool {

namespace {
std::shared_ptr<spdlog::logger>& tool_logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("shmq-tool", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("shmq: %l: %v");
    return l;
  }();
  return logger;
}
}  // namespace

void setup_logging(bool verbose) {
  tool_logger()->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  shmq::logger()->set_level(verbose ? spdlog::level::debug : spdlog::level::off);
}

spdlog::logger& log() { return *tool_logger(); }

int report(const std::exception& e) {
  log().error("{}", e.what());
  if (const auto* error = dynamic_cast<const shmq::Error*>(&e)) {
    if (error->code() == ErrorCode::damaged_file || error->code() == ErrorCode::peer_broke_protocol)
      return kExitDamaged;
  }
  return kExitFailed;
}

std::string cause_of(const shmq::Error& e) {
  if (e.sys_errno() == 0) return e.cause();
  return e.cause() + ": " + std::strerror(e.sys_errno());
}

}  // namespace shmq::tool
