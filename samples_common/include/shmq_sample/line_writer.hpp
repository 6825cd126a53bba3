// Lines to a file descriptor, handed to write(2) only whole: a program killed at any moment leaves
// complete lines behind, never the start of one (stdio would spill a full buffer mid-line).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace shmq_sample {

class LineWriter {
 public:
  // Writes to `fd` (not owned, named `name` in errors) through a buffer of `capacity` bytes.
  LineWriter(int fd, std::string name, std::size_t capacity = std::size_t{64} << 10);
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  // Adds `text` and a newline. Writes the buffered lines first when they would not fit with it;
  // a line longer than the whole buffer is written alone, in one call. Throws std::system_error.
  void write_line(std::string_view text);
  // Writes every buffered line. Throws std::system_error (EPIPE, ENOSPC, ...).
  void flush();

 private:
  void write_all(std::string_view first, std::string_view second);

  int fd_;
  std::string name_;
  std::vector<char> buffer_;
  std::size_t used_ = 0;
};

}  // namespace shmq_sample
