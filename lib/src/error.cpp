#include "shmq/error.hpp"

#include <cstring>

#include "shmq/result.hpp"

namespace shmq {
namespace {

std::string describe(ErrorCode code, const std::filesystem::path& path, const std::string& cause, int sys_errno) {
  std::string s = path.empty() ? std::string("shmq") : path.string();
  s += ": ";
  s += cause;
  if (sys_errno != 0) {
    s += ": ";
    s += std::strerror(sys_errno);
  }
  s += " [";
  s += to_string(code);
  s += "]";
  return s;
}

}  // namespace

Error::Error(ErrorCode code, std::filesystem::path path, const std::string& cause, int sys_errno, Fault fault,
             std::uint64_t found, std::uint64_t expected)
    : std::runtime_error(describe(code, path, cause, sys_errno)),
      code_(code),
      path_(std::move(path)),
      cause_(cause),
      errno_(sys_errno),
      fault_(fault),
      found_(found),
      expected_(expected) {}

const char* to_string(Fault fault) noexcept {
  switch (fault) {
    case Fault::unspecified:
      return "unspecified";
    case Fault::file_type:
      return "file_type";
    case Fault::owner:
      return "owner";
    case Fault::size:
      return "size";
    case Fault::magic:
      return "magic";
    case Fault::version:
      return "version";
    case Fault::layout:
      return "layout";
    case Fault::flags:
      return "flags";
    case Fault::header_size:
      return "header_size";
    case Fault::capacity:
      return "capacity";
    case Fault::alignment:
      return "alignment";
    case Fault::header_checksum:
      return "header_checksum";
  }
  return "unknown";
}

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::io:
      return "io";
    case ErrorCode::already_exists:
      return "already_exists";
    case ErrorCode::not_a_queue:
      return "not_a_queue";
    case ErrorCode::incompatible:
      return "incompatible";
    case ErrorCode::damaged_file:
      return "damaged_file";
    case ErrorCode::foreign_owner:
      return "foreign_owner";
    case ErrorCode::role_taken:
      return "role_taken";
    case ErrorCode::peer_broke_protocol:
      return "peer_broke_protocol";
    case ErrorCode::usage:
      return "usage";
  }
  return "unknown";
}

const char* to_string(Status status) noexcept {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::would_block:
      return "would_block";
    case Status::timed_out:
      return "timed_out";
    case Status::peer_gone:
      return "peer_gone";
  }
  return "unknown";
}

}  // namespace shmq
