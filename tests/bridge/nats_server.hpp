// A nats-server with JetStream for one test: on a free 127.0.0.1 port, its store in a temporary
// directory, stopped by pid (SIGTERM, so it writes its store out) and restartable on the same port
// and store.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace shmq::test {

class NatsServer {
 public:
  // Starts the server and waits until it is ready. `extra` is added to its command line
  // (e.g. {"--auth", "secret"}).
  explicit NatsServer(std::vector<std::string> extra = {});
  ~NatsServer();  // stops it and removes the store
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  void stop();   // SIGTERM, then waits for it to exit
  void start();  // on the same port and store
  void restart() {
    stop();
    start();
  }

  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  bool launch();  // starts it on port_; false when it did not become ready

  std::vector<std::string> extra_;
  std::filesystem::path store_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_port();

}  // namespace shmq::test
