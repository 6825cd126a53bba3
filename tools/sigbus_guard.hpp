// A peer that truncates the queue file while the tool reads its mapping makes the next read of a
// vanished page raise SIGBUS. The guard turns that into a message naming the file and exit code 2
// instead of a crash (the tool holds no state that needs cleaning up).
#pragma once

#include <filesystem>

namespace shmq::tool {

// Installs the SIGBUS handler for reads of the queue at `path` (the path goes into its message).
void install_sigbus_guard(const std::filesystem::path& path);

}  // namespace shmq::tool
