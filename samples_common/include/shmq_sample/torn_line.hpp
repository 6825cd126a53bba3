// The partial last line a killed writer can leave at the end of a regular file.
//
// Writing whole lines is not enough: the kernel checks for a fatal signal between the pages of a
// write(2) to a regular file, so kill -9 can cut even one write short at a page boundary. A
// restarted writer that is about to write the same line again finds the fragment here and cuts it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace shmq_sample {

struct TornLine {
  std::string text;           // the bytes after the file's last newline
  std::size_t file_size = 0;  // the file's size when they were read
};

// The unterminated last line of the regular file `fd` writes to, when `fd` writes at its end
// (O_APPEND, or its offset is the file's size) and that line has at most `max_length` bytes;
// nothing otherwise (a pipe, a terminal, an empty file, a file ending with a newline).
// Throws std::system_error when the file cannot be read.
std::optional<TornLine> find_torn_line(int fd, std::size_t max_length);

// Cuts `torn` off the end of the file (ftruncate) and moves the offset there. Throws
// std::system_error, and refuses (std::runtime_error) when the file has changed size since.
void cut_torn_line(int fd, const TornLine& torn);

}  // namespace shmq_sample
