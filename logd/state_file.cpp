#include "state_file.hpp"

#include <sstream>

#include "files.hpp"

namespace shmq::logd {
namespace {

constexpr const char* kHeader = "shmq-logd-state 1";

}  // namespace

std::filesystem::path state_path_for(const std::filesystem::path& output) {
  return output.parent_path() / ("." + output.filename().string() + ".shmq-logd-state");
}

std::string format_state(const ShipperState& state) {
  std::ostringstream out;
  out << kHeader << "\n";
  out << "output_length " << state.output_length << "\n";
  out << "output_started_unix_s " << state.output_started_unix_s << "\n";
  out << "next_rotation " << state.next_rotation << "\n";
  for (const auto& [name, s] : state.sources) {
    out << "source " << name << " " << s.next_sequence << " " << s.drops_reported << " " << static_cast<int>(s.leaving)
        << "\n";
  }
  out << "end\n";
  return out.str();
}

ShipperState parse_state(const std::string& text, const std::filesystem::path& path) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kHeader) throw FileError(path, "not a shmq-logd state file (version 1)");
  ShipperState state;
  bool complete = false;
  int line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    bool ok = true;
    if (key == "output_length") {
      ok = static_cast<bool>(fields >> state.output_length);
    } else if (key == "output_started_unix_s") {
      ok = static_cast<bool>(fields >> state.output_started_unix_s);
    } else if (key == "next_rotation") {
      ok = static_cast<bool>(fields >> state.next_rotation) && state.next_rotation > 0;
    } else if (key == "source") {
      std::string name;
      SourceState s;
      int leaving = 0;
      ok = static_cast<bool>(fields >> name >> s.next_sequence >> s.drops_reported >> leaving) && leaving >= 0 &&
           leaving <= 2;
      s.leaving = static_cast<Leaving>(leaving);
      if (ok) state.sources[name] = s;
    } else if (key == "end") {
      complete = true;
      break;
    } else {
      ok = false;
    }
    if (!ok) throw FileError(path, "state file line " + std::to_string(line_number) + " is malformed: " + line);
  }
  if (!complete) throw FileError(path, "state file is incomplete (no end line)");
  return state;
}

std::optional<ShipperState> load_state(const std::filesystem::path& path) {
  const FileText file = read_small_file(path);
  if (!file.exists) return std::nullopt;
  return parse_state(file.text, path);
}

void save_state(const std::filesystem::path& path, const ShipperState& state) {
  replace_file(path, format_state(state));
}

}  // namespace shmq::logd
