// shmq stat PATH [--json]: one read-only look at a queue.
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "diagnostics.hpp"
#include "queue_snapshot.hpp"
#include "snapshot_text.hpp"
#include "units.hpp"

namespace shmq::tool {

namespace {

nlohmann::ordered_json role_json(const RoleSnapshot& r) {
  return {{"attached", r.attached},  // from the kernel's lock table: the liveness to trust
          {"pid", r.pid},            // as recorded in the file at the last attach: informative only
          {"attached_flag", r.attached_flag},
          {"attach_count", r.attach_count},
          {"position", r.position},
          {"sequence", r.sequence},
          {"waiting", r.waiting},
          {"fencing", r.fencing == layout::kFencingMembarrier ? "membarrier" : "full"},
          {"fencing_reason", describe_fencing_reason(r)}};
}

nlohmann::ordered_json to_json(const QueueSnapshot& s) {
  nlohmann::ordered_json durable = nullptr;  // not a durable queue
  if (s.durable_mode) {
    nlohmann::ordered_json checkpoint = nullptr;  // no valid checkpoint
    if (s.durable) {
      checkpoint = {{"counter", s.durable->counter},
                    {"position", s.durable->position},
                    {"sequence", s.durable->sequence},
                    {"read_position", s.durable->read_position},
                    {"unix_ns", s.durable->checkpoint_unix_ns},
                    {"age_s", std::chrono::duration<double>(s.checkpoint_age()).count()}};
    }
    durable = {
        {"checkpoint", checkpoint},
        {"policy", {{"bytes", s.identity.checkpoint_bytes}, {"interval_ms", s.identity.checkpoint_interval_ms}}}};
  }
  return {
      {"path", s.path.string()},
      {"format_version", s.identity.format_version},
      {"layout_id", s.identity.layout_id},
      {"header_size", s.identity.header_size},
      {"capacity", s.identity.capacity},
      {"file_size", s.file_size},
      {"flags", {{"checksums", s.checksums()}, {"durable", s.durable_mode}}},
      {"initial_position", s.identity.initial_position},
      {"created_unix_ns", s.identity.created_unix_ns},
      {"instance_id", fmt::format("{:016x}", s.identity.instance_id)},
      {"positions", {{"read", s.read}, {"write", s.write}}},
      {"sequences",
       {{"consumed", s.consumed},
        {"durable", s.durable ? nlohmann::ordered_json(s.durable->sequence) : nlohmann::ordered_json(nullptr)},
        {"published", s.published}}},
      {"depth",
       {{"messages", s.depth_messages ? nlohmann::ordered_json(*s.depth_messages) : nlohmann::ordered_json(nullptr)},
        {"bytes", s.depth_bytes},
        {"fill", s.fill()},
        {"note", s.depth_note}}},
      {"durable", durable},
      {"recovery_pending", s.recovery_pending},
      {"producer", role_json(s.producer)},
      {"consumer", role_json(s.consumer)},
      {"problem", s.problem ? nlohmann::ordered_json(*s.problem) : nlohmann::ordered_json(nullptr)},
      {"snapshot_unix_ns", s.taken_unix_ns},
  };
}

std::string flag_names(const QueueSnapshot& s) {
  if (!s.checksums() && !s.durable_mode) return "none";
  if (s.checksums() && s.durable_mode) return "checksums, durable";
  return s.checksums() ? "checksums" : "durable";
}

std::string describe_policy(const layout::Identity& id) {
  std::string every;
  if (id.checkpoint_bytes != 0) every = "every " + format_size(id.checkpoint_bytes) + " published";
  if (id.checkpoint_interval_ms != 0) {
    every += (every.empty() ? "" : " and ") + fmt::format("every {} ms", id.checkpoint_interval_ms);
  }
  return every.empty() ? "only when the producer calls sync() (or needs the space)" : every;
}

void print_text(const QueueSnapshot& s) {
  const layout::Identity& id = s.identity;
  std::cout << fmt::format("queue      {}\n", s.path.string())
            << fmt::format("format     version {}, layout {:08x}, header {}\n", id.format_version, id.layout_id,
                           format_size(id.header_size))
            << fmt::format("capacity   {} ({} bytes), file {} bytes\n", format_size(id.capacity), id.capacity,
                           s.file_size)
            << fmt::format("flags      {}\n", flag_names(s))
            << fmt::format("created    {}, instance {:016x}\n", format_utc(id.created_unix_ns), id.instance_id)
            << fmt::format("published  {} messages (write position {})\n", s.published, s.write)
            << fmt::format("consumed   {} messages (read position {})\n", s.consumed, s.read)
            << fmt::format("depth      {}\n", describe_depth(s)) << fmt::format("durable    {}\n", describe_durable(s))
            << (s.durable_mode ? fmt::format("policy     checkpoint {}\n", describe_policy(s.identity)) : std::string())
            << (s.recovery_pending ? std::string("recovery   pending: last used in another boot of the machine; the "
                                                 "next producer or consumer to open it recovers it first\n")
                                   : std::string())
            << fmt::format("producer   {}\n", describe_role(s.producer, "space"))
            << fmt::format("consumer   {}\n", describe_role(s.consumer, "data"));
  if (s.producer.attach_count != 0 || s.consumer.attach_count != 0) {
    std::cout << fmt::format("fencing    producer {}; consumer {}\n", describe_fencing(s.producer),
                             describe_fencing(s.consumer));
  }
  if (s.problem) std::cout << fmt::format("problem    {}\n", *s.problem);
}

}  // namespace

Command add_stat(CLI::App& app) {
  struct Options {
    QueueArgs queue;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "stat", "Print a queue's header, positions, sequence numbers, depth and attached peers (read-only)");
  add_queue_args(*sub, o->queue);
  sub->add_flag("--json", o->json, "Print one JSON object with the same facts");
  sub->footer(
      "Liveness (\"attached\") comes from the kernel's lock table. The pid is the one recorded in the file at "
      "the role's last attach: informative only (pids are reused, and differ between pid namespaces). "
      "Durable queues also show their newest valid checkpoint: the durable watermark and its age.");

  return {sub, [o] {
            const detail::QueueFile file = open_read_only(o->queue.path, o->queue.any_owner);
            const QueueSnapshot s = take_snapshot(file, DepthFrom::walk);
            if (o->json) {
              std::cout << to_json(s).dump(2) << '\n';
            } else {
              print_text(s);
            }
            if (s.problem) {
              log().error("{}: damaged: {}", s.path.string(), *s.problem);
              return kExitDamaged;
            }
            return kExitOk;
          }};
}

}  // namespace shmq::tool
