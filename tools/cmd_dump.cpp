// shmq dump PATH [--from SEQ] [--count N] [--hex|--text|--json]: prints the messages of the live
// region without consuming them (read-only). Each message is copied out of the mapping and then
// re-checked: a message the consumer released while it was being copied ends the dump there.
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "diagnostics.hpp"
#include "live_walk.hpp"
#include "queue_snapshot.hpp"

namespace shmq::tool {

namespace {

enum class Format { text, hex, json };

std::string escaped_text(const std::vector<std::byte>& bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const std::byte b : bytes) {
    const auto c = static_cast<unsigned char>(b);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += fmt::format("\\x{:02x}", c);
        }
    }
  }
  return out;
}

std::string hex_string(const std::vector<std::byte>& bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::byte b : bytes) out += fmt::format("{:02x}", static_cast<unsigned>(b));
  return out;
}

// Like `hexdump -C`: offset, 16 bytes in two groups of 8, and the printable characters.
std::string hex_dump(const std::vector<std::byte>& bytes) {
  std::string out;
  for (std::size_t row = 0; row < bytes.size(); row += 16) {
    std::string hex;
    std::string chars;
    for (std::size_t i = row; i < row + 16; ++i) {
      if (i == row + 8) hex += ' ';
      if (i < bytes.size()) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        hex += fmt::format(" {:02x}", c);
        chars += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
      } else {
        hex += "   ";
      }
    }
    out += fmt::format("  {:08x} {}  |{}|\n", row, hex, chars);
  }
  return out;
}

std::string render(Format format, std::uint64_t sequence, std::uint64_t position, const std::vector<std::byte>& bytes) {
  switch (format) {
    case Format::text:
      return fmt::format("#{} {} bytes: {}\n", sequence, bytes.size(), escaped_text(bytes));
    case Format::hex:
      return fmt::format("#{} {} bytes at position {}\n{}", sequence, bytes.size(), position, hex_dump(bytes));
    case Format::json: {
      nlohmann::ordered_json j = {{"sequence", sequence}, {"position", position}, {"length", bytes.size()}};
      j["text"] = std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      try {
        return j.dump() + '\n';
      } catch (const nlohmann::ordered_json::type_error&) {  // not valid UTF-8: give the bytes in hex instead
        j.erase("text");
        j["hex"] = hex_string(bytes);
        return j.dump() + '\n';
      }
    }
  }
  return {};
}

struct DumpOptions {
  QueueArgs queue;
  std::optional<std::uint64_t> from;
  std::optional<std::uint64_t> count;
  bool hex = false;
  bool text = false;
  bool json = false;
};

int dump(const DumpOptions& o) {
  const detail::QueueFile file = open_read_only(o.queue.path, o.queue.any_owner);
  const detail::RingView view = file.ring_view();
  const Format format = o.hex ? Format::hex : o.json ? Format::json : Format::text;
  std::uint64_t printed = 0;
  std::optional<std::uint64_t> released_while_read;
  std::vector<std::byte> copy;

  const WalkResult walk = walk_live_region(view, [&](const LiveRecord& record) {
    if (o.count && printed >= *o.count) return false;
    if (o.from && record.sequence < *o.from) return true;
    copy.assign(record.bytes.begin(), record.bytes.end());
    if (!still_unreleased(view, record.position)) {
      released_while_read = record.sequence;
      return false;
    }
    std::cout << render(format, record.sequence, record.position, copy);
    ++printed;
    return true;
  });
  std::cout.flush();

  if (walk.end == WalkEnd::damaged) {
    log().error("{}: damaged: {} ({} message{} printed)", o.queue.path, describe_fault(view, walk), printed,
                printed == 1 ? "" : "s");
    return kExitDamaged;
  }
  if (released_while_read || walk.end == WalkEnd::raced) {
    log().warn("{}: stopped{}: the consumer released messages while they were being read ({} printed)", o.queue.path,
               released_while_read ? fmt::format(" at sequence {}", *released_while_read) : std::string(), printed);
    return kExitOk;
  }
  if (o.from && *o.from < walk.first_sequence && walk.messages > 0) {
    log().info("{}: messages before sequence {} are consumed already", o.queue.path, walk.first_sequence);
  }
  if (o.from && *o.from >= walk.next_sequence) {
    log().info("{}: nothing from sequence {}: the live region holds sequences {} to {}", o.queue.path, *o.from,
               walk.first_sequence, walk.next_sequence);
  }
  return kExitOk;
}

}  // namespace

Command add_dump(CLI::App& app) {
  auto o = std::make_shared<DumpOptions>();
  CLI::App* sub = app.add_subcommand(
      "dump", "Print the messages not yet consumed, with their sequence numbers (read-only: consumes nothing)");
  add_queue_args(*sub, o->queue);
  sub->add_option("--from", o->from, "Start at this sequence number");
  sub->add_option("--count", o->count, "Print at most this many messages");
  CLI::Option* hex = sub->add_flag("--hex", o->hex, "Hex dump of each message");
  CLI::Option* text = sub->add_flag("--text", o->text, "One line per message, non-printable bytes escaped (default)");
  CLI::Option* json = sub->add_flag("--json", o->json,
                                    "One JSON object per line: sequence, position, length, and text (valid UTF-8) "
                                    "or hex (anything else)");
  hex->excludes(text)->excludes(json);
  text->excludes(json);
  return {sub, [o] { return dump(*o); }};
}

}  // namespace shmq::tool
