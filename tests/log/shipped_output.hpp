// Reading what shmq-logd shipped: the rotated files in order (zstd ones decompressed) and then
// the current file, as lines; and checking an application's numbered lines "<name> <i>".
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace shmq::log::test {

// Every line of `output`'s rotated files (oldest first) and then of `output` itself.
std::vector<std::string> shipped_lines(const std::filesystem::path& output);
// How many rotated files `output` has.
std::size_t rotated_count(const std::filesystem::path& output);

// For each application name: the numbers of its lines "<name> <i>" in output order. Lines of the
// shipper ("shmq-logd: ...") and lines of other forms are left out.
std::map<std::string, std::vector<std::uint64_t>> numbers_by_name(const std::vector<std::string>& lines);

// "" when `numbers` is exactly 0, 1, ..., n-1 (every line once, in order), else what is wrong.
std::string check_sequence(const std::vector<std::uint64_t>& numbers);

}  // namespace shmq::log::test
