#include "sigbus_guard.hpp"

#include <csignal>
#include <cstring>

#include <unistd.h>

#include "diagnostics.hpp"

namespace shmq::tool {

namespace {

char g_message[1024];  // prepared before the signal: the handler may only call async-signal-safe functions
std::size_t g_length = 0;

extern "C" void on_sigbus(int) {
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, g_message, g_length);
  ::_exit(kExitFailed);
}

}  // namespace

void install_sigbus_guard(const std::filesystem::path& path) {
  const std::string text = "shmq: error: " + path.string() +
                           ": the file shrank while it was being read (SIGBUS): truncated by another process?\n";
  g_length = std::min(text.size(), sizeof g_message);
  std::memcpy(g_message, text.data(), g_length);
  struct sigaction action {};
  action.sa_handler = on_sigbus;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGBUS, &action, nullptr);
}

}  // namespace shmq::tool
