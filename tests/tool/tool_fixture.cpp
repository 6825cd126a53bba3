#include "tool_fixture.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace shmq::test {

void ToolTest::overwrite(std::uint64_t offset, const std::string& bytes) const {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path_;
  EXPECT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

}  // namespace shmq::test
