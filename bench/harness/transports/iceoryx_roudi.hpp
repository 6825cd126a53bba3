// The iceoryx daemon (iox-roudi), which the harness starts with its own memory-pool configuration
// and stops by its pid when the last iceoryx transport is destroyed.
#pragma once

#include <filesystem>
#include <string>

#include <sys/types.h>

namespace bench {

class RoudiProcess {
 public:
  explicit RoudiProcess(std::filesystem::path work_dir) : work_dir_(std::move(work_dir)) {}
  ~RoudiProcess();
  RoudiProcess(const RoudiProcess&) = delete;
  RoudiProcess& operator=(const RoudiProcess&) = delete;

  // Starts iox-roudi on the first call and waits until it is ready for clients; later calls only
  // check it is still running. Throws Unavailable with the reason when it cannot run.
  void ensure_running();

 private:
  void write_config(const std::filesystem::path& config) const;
  std::filesystem::path work_dir_;
  pid_t pid_ = -1;
  std::string failure_;  // once it failed to start, every later call reports the same reason
};

}  // namespace bench
