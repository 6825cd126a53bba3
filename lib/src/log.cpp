#include "shmq/log.hpp"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace shmq {
namespace {
std::mutex g_mutex;
std::shared_ptr<spdlog::logger> g_logger;
}  // namespace

std::shared_ptr<spdlog::logger> logger() {
  std::lock_guard lock(g_mutex);
  if (!g_logger) {
    g_logger = spdlog::get(kLoggerName);  // an application may have registered its own
    if (!g_logger) {
      g_logger = spdlog::stderr_color_mt(kLoggerName);
      g_logger->set_level(spdlog::level::info);
    }
  }
  return g_logger;
}

void set_logger(std::shared_ptr<spdlog::logger> logger) {
  std::lock_guard lock(g_mutex);
  g_logger = std::move(logger);
}

}  // namespace shmq
