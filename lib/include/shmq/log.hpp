// shmq logs lifecycle events (create, open, attach, detach, peer gone, errors) to one spdlog
// logger, never on the hot path. By default it is the logger registered under the name "shmq"
// (created on first use, writing to stderr, level info). Configure it through spdlog
// (spdlog::get("shmq")->set_level(...)) or replace it with set_logger().
#pragma once

#include <memory>

namespace spdlog {
class logger;
}

namespace shmq {

inline constexpr const char* kLoggerName = "shmq";
std::shared_ptr<spdlog::logger> logger();
void set_logger(std::shared_ptr<spdlog::logger> logger);

}  // namespace shmq
