#include "rotated_files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <zstd.h>

#include "files.hpp"

namespace shmq::logd {
namespace {

constexpr std::string_view kZstSuffix = ".zst";

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, const void* data, std::size_t size, const std::filesystem::path& path) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw FileError(path, "cannot write", n < 0 ? errno : EIO);
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace

std::filesystem::path rotated_path(const std::filesystem::path& output, std::uint64_t number) {
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%06llu", static_cast<unsigned long long>(number));
  return std::filesystem::path(output.string() + suffix);
}

std::vector<RotatedFile> list_rotated(const std::filesystem::path& output) {
  std::vector<RotatedFile> files;
  const std::string prefix = output.filename().string() + ".";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(output.parent_path(), ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    std::string rest = name.substr(prefix.size());
    RotatedFile f;
    if (rest.ends_with(kZstSuffix)) {
      f.compressed = true;
      rest.resize(rest.size() - kZstSuffix.size());
    }
    if (rest.size() < 6 || !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    f.number = std::stoull(rest);
    f.path = entry.path();
    files.push_back(f);
  }
  std::sort(files.begin(), files.end(), [](const RotatedFile& a, const RotatedFile& b) {
    return a.number != b.number ? a.number < b.number : a.compressed < b.compressed;
  });
  return files;
}

void compress_file(const std::filesystem::path& from, const std::filesystem::path& to, int level) {
  Fd in{::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
  if (in.fd < 0) throw FileError(from, "cannot open for compression", errno);
  const std::filesystem::path temp = to.parent_path() / ("." + to.filename().string() + ".tmp");
  Fd out{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)};
  if (out.fd < 0) throw FileError(temp, "cannot create", errno);
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  std::vector<char> in_buf(ZSTD_CStreamInSize());
  std::vector<char> out_buf(ZSTD_CStreamOutSize());
  for (;;) {
    const ssize_t n = ::read(in.fd, in_buf.data(), in_buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FileError(from, "cannot read", errno);
    const ZSTD_EndDirective mode = n == 0 ? ZSTD_e_end : ZSTD_e_continue;
    ZSTD_inBuffer input{in_buf.data(), static_cast<std::size_t>(n), 0};
    bool finished = false;
    while (!finished) {
      ZSTD_outBuffer output{out_buf.data(), out_buf.size(), 0};
      const std::size_t remaining = ZSTD_compressStream2(cctx.get(), &output, &input, mode);
      if (ZSTD_isError(remaining)) throw FileError(from, std::string("zstd: ") + ZSTD_getErrorName(remaining));
      write_all(out.fd, out_buf.data(), output.pos, temp);
      finished = mode == ZSTD_e_end ? remaining == 0 : input.pos == input.size;
    }
    if (n == 0) break;
  }
  if (::fsync(out.fd) != 0) throw FileError(temp, "cannot sync", errno);
  if (::rename(temp.c_str(), to.c_str()) != 0) throw FileError(to, "cannot rename " + temp.string() + " to", errno);
  sync_directory(to.parent_path());
}

RotatedFiles::RotatedFiles(std::filesystem::path output, unsigned keep, bool compress, int level)
    : output_(std::move(output)), keep_(keep), compress_(compress), level_(level), worker_([this] { run(); }) {}

RotatedFiles::~RotatedFiles() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  worker_.join();
}

void RotatedFiles::tidy() {
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  wake_.notify_one();
}

void RotatedFiles::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return requested_ || stopping_; });
    if (!requested_) return;  // stopping with nothing left to do
    requested_ = false;
    lock.unlock();
    try {
      tidy_now();
    } catch (const std::exception& e) {
      spdlog::error("rotated files: {}", e.what());
    }
    lock.lock();
  }
}

void RotatedFiles::tidy_now() {
  std::vector<RotatedFile> files = list_rotated(output_);
  if (compress_) {
    for (std::size_t i = 0; i < files.size(); ++i) {
      const RotatedFile& f = files[i];
      if (f.compressed) continue;
      const bool done = i + 1 < files.size() && files[i + 1].number == f.number && files[i + 1].compressed;
      const std::filesystem::path zst(f.path.string() + std::string(kZstSuffix));
      if (!done) compress_file(f.path, zst, level_);  // (a .zst next to a plain file: a crash before the unlink)
      if (::unlink(f.path.c_str()) != 0) throw FileError(f.path, "cannot remove after compressing", errno);
      sync_directory(output_.parent_path());
    }
    files = list_rotated(output_);
  }
  if (keep_ == 0) return;
  std::vector<std::uint64_t> numbers;
  for (const RotatedFile& f : files) {
    if (numbers.empty() || numbers.back() != f.number) numbers.push_back(f.number);
  }
  if (numbers.size() <= keep_) return;
  const std::uint64_t oldest_kept = numbers[numbers.size() - keep_];
  for (const RotatedFile& f : files) {
    if (f.number < oldest_kept && ::unlink(f.path.c_str()) != 0 && errno != ENOENT) {
      throw FileError(f.path, "cannot remove an old rotated file", errno);
    }
  }
  sync_directory(output_.parent_path());
}

}  // namespace shmq::logd
