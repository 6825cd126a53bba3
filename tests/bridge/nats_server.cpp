#include "nats_server.hpp"

#include <csignal>
#include <stdexcept>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace shmq::test {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a free port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

NatsServer::NatsServer(std::vector<std::string> extra) : extra_(std::move(extra)) {
  char dir[] = "/tmp/shmq-nats-XXXXXX";
  if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
  store_ = dir;
  // The port was free when chosen; another process may take it before the server binds it.
  for (int attempt = 0; attempt < 5 && !process_; ++attempt) {
    port_ = free_port();
    if (!launch()) process_.reset();
  }
  if (!process_) ADD_FAILURE() << "nats-server did not start on a free port";
}

NatsServer::~NatsServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(store_, ignored);
}

void NatsServer::start() {
  if (!launch()) ADD_FAILURE() << "nats-server did not start" << process_->describe();
}

bool NatsServer::launch() {
  std::vector<std::string> argv = {SHMQ_NATS_SERVER_PATH, "-js", "-a",           "127.0.0.1", "-p",
                                   std::to_string(port_), "-sd", store_.string()};
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  process_ = std::make_unique<ChildProcess>(argv);
  const bool ready =
      eventually([&] { return process_->err().find("Server is ready") != std::string::npos || !process_->running(); });
  return ready && process_->running();
}

void NatsServer::stop() {
  if (!process_) return;
  if (process_->running()) process_->send_signal(SIGTERM);
  process_->wait();
  process_.reset();
}

}  // namespace shmq::test
