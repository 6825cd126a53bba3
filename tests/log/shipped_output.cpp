#include "shipped_output.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>
#include <zstd.h>

namespace shmq::log::test {
namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string decompress(const std::filesystem::path& path) {
  const std::string compressed = slurp(path);
  std::string out;
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  std::vector<char> buffer(ZSTD_DStreamOutSize());
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buffer.data(), buffer.size(), 0};
    const std::size_t rc = ZSTD_decompressStream(dctx.get(), &o, &in);
    if (ZSTD_isError(rc)) {
      ADD_FAILURE() << path << ": " << ZSTD_getErrorName(rc);
      break;
    }
    out.append(buffer.data(), o.pos);
  }
  return out;
}

struct Rotated {
  std::string number;
  std::filesystem::path path;
  bool compressed;
};

std::vector<Rotated> rotated_files(const std::filesystem::path& output) {
  std::vector<Rotated> files;
  const std::string prefix = output.filename().string() + ".";
  for (const auto& e : std::filesystem::directory_iterator(output.parent_path())) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    std::string rest = name.substr(prefix.size());
    const bool compressed = rest.size() > 4 && rest.ends_with(".zst");
    if (compressed) rest.resize(rest.size() - 4);
    if (rest.size() != 6 || rest.find_first_not_of("0123456789") != std::string::npos) continue;
    files.push_back({rest, e.path(), compressed});
  }
  std::sort(files.begin(), files.end(), [](const Rotated& a, const Rotated& b) { return a.number < b.number; });
  return files;
}

void append_lines(const std::string& text, std::vector<std::string>& lines) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
}

}  // namespace

std::vector<std::string> shipped_lines(const std::filesystem::path& output) {
  std::vector<std::string> lines;
  for (const Rotated& r : rotated_files(output)) append_lines(r.compressed ? decompress(r.path) : slurp(r.path), lines);
  append_lines(slurp(output), lines);
  return lines;
}

std::size_t rotated_count(const std::filesystem::path& output) { return rotated_files(output).size(); }

std::map<std::string, std::vector<std::uint64_t>> numbers_by_name(const std::vector<std::string>& lines) {
  std::map<std::string, std::vector<std::uint64_t>> out;
  for (const std::string& line : lines) {
    if (line.rfind("shmq-logd: ", 0) == 0) continue;
    const std::size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string name = line.substr(0, space);
    std::size_t digits_end = space + 1;
    while (digits_end < line.size() && line[digits_end] >= '0' && line[digits_end] <= '9') ++digits_end;
    if (digits_end == space + 1) continue;
    out[name].push_back(std::stoull(line.substr(space + 1, digits_end - space - 1)));
  }
  return out;
}

std::string check_sequence(const std::vector<std::uint64_t>& numbers) {
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (numbers[i] != i) {
      std::ostringstream why;
      why << "line " << i << " is number " << numbers[i] << " (expected " << i << ": "
          << (numbers[i] < i ? "a repeat" : "a gap") << ")";
      return why.str();
    }
  }
  return "";
}

}  // namespace shmq::log::test
