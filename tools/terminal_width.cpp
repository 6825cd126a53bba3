#include "terminal_width.hpp"

#include <algorithm>

#include <sys/ioctl.h>

namespace shmq::tool {

std::size_t terminal_columns(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return 80;
  return size.ws_col;
}

std::string fit_to_width(const std::string& text, std::size_t columns) {
  const std::size_t most = columns > 1 ? columns - 1 : 1;
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    const bool newline = end != std::string::npos;
    if (!newline) end = text.size();
    std::size_t cut = std::min(end, start + most);
    if (cut < end) {
      while (cut > start && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    }
    out.append(text, start, cut - start);
    if (newline) out += '\n';
    start = end + 1;
  }
  return out;
}

}  // namespace shmq::tool
