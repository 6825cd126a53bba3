#include "status.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace shmq::logd {

std::filesystem::path status_path_for(const std::filesystem::path& spool) { return spool / ".shmq-logd.status"; }

std::string status_json(const StatusReport& r) {
  nlohmann::json sources = nlohmann::json::array();
  for (const SourceRow& s : r.sources) {
    sources.push_back({{"name", s.name},
                       {"state", s.state},
                       {"shipped", s.shipped},
                       {"published", s.published},
                       {"lag", s.published > s.shipped ? s.published - s.shipped : 0},
                       {"pending", s.pending},
                       {"drops", s.drops}});
  }
  const nlohmann::json j = {{"time_unix_ns", r.time_unix_ns},
                            {"pid", r.pid},
                            {"output", r.output},
                            {"output_length", r.output_length},
                            {"lines_shipped", r.lines_shipped},
                            {"sources", sources},
                            {"set_aside", r.set_aside}};
  return j.dump();
}

std::string status_text(const StatusReport& r) {
  std::string out = fmt::format("shmq-logd pid {}: {} ({} bytes), {} lines shipped by this run\n", r.pid, r.output,
                                r.output_length, r.lines_shipped);
  out += fmt::format("{:<48} {:>7} {:>12} {:>12} {:>10} {:>10}\n", "source", "state", "shipped", "published", "lag",
                     "drops");
  for (const SourceRow& s : r.sources) {
    out += fmt::format("{:<48} {:>7} {:>12} {:>12} {:>10} {:>10}\n", s.name, s.state, s.shipped, s.published,
                       s.published > s.shipped ? s.published - s.shipped : 0, s.drops);
  }
  for (const std::string& a : r.set_aside) out += "set aside: " + a + "\n";
  return out;
}

StatusReport parse_status(const std::string& json, const std::filesystem::path& path) {
  try {
    const nlohmann::json j = nlohmann::json::parse(json);
    StatusReport r;
    r.time_unix_ns = j.at("time_unix_ns").get<std::uint64_t>();
    r.pid = j.at("pid").get<std::uint64_t>();
    r.output = j.at("output").get<std::string>();
    r.output_length = j.at("output_length").get<std::uint64_t>();
    r.lines_shipped = j.at("lines_shipped").get<std::uint64_t>();
    for (const auto& s : j.at("sources")) {
      r.sources.push_back({s.at("name").get<std::string>(), s.at("state").get<std::string>(),
                           s.at("shipped").get<std::uint64_t>(), s.at("published").get<std::uint64_t>(),
                           s.at("pending").get<std::uint64_t>(), s.at("drops").get<std::uint64_t>()});
    }
    r.set_aside = j.at("set_aside").get<std::vector<std::string>>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path.string() + ": not a shmq-logd status file: " + e.what());
  }
}

}  // namespace shmq::logd
