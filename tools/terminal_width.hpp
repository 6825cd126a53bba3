// Fitting text to the terminal on stdout, for views redrawn in place.
#pragma once

#include <cstddef>
#include <string>

namespace shmq::tool {

// Columns of the terminal on `fd`, asked each time (it may have been resized); 80 if unknown.
std::size_t terminal_columns(int fd);

// Cuts each line of `text` to `columns` - 1 bytes, on a UTF-8 character boundary, so that each
// line takes exactly one row. One column is kept free: a line filling the last column makes some
// terminals wrap at once. Bytes, not columns: a line of n bytes never takes more than n columns.
std::string fit_to_width(const std::string& text, std::size_t columns);

}  // namespace shmq::tool
