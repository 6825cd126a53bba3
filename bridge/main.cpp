// shmq-bridge: a shmq queue into a NATS JetStream stream (`out`) and a stream into a queue (`in`),
// each message exactly once. Arguments and wiring only: see out_bridge.hpp and in_bridge.hpp.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "in_bridge.hpp"
#include "nats_session.hpp"
#include "out_bridge.hpp"
#include "shmq_sample/cli.hpp"

namespace {

using namespace shmq_bridge;

constexpr const char* kDescription =
    "shmq-bridge moves messages between a shmq queue and a NATS JetStream stream, exactly once.\n"
    "  out: the queue's consumer; publishes each message (Nats-Msg-Id <instance>-<sequence>) and\n"
    "       releases it from the queue only once JetStream acknowledged it.\n"
    "  in:  a durable pull consumer of the stream; the local queue's producer; acknowledges a\n"
    "       message to JetStream only once it is in the local queue (the source's sequence numbers).\n"
    "Credentials: --creds FILE, or a token in the environment variable SHMQ_NATS_TOKEN or --token-file\n"
    "(never on the command line). See docs/BRIDGE.md.\n";

constexpr const char* kFooter =
    "Examples:\n"
    "  shmq-bridge out --queue /dev/shm/a --server nats://127.0.0.1:4222 --subject orders --stream ORDERS "
    "--create-stream\n"
    "  shmq-bridge in --server nats://127.0.0.1:4222 --stream ORDERS --consumer to-b --queue /dev/shm/b --create\n"
    "\n"
    "Exit status: 0 done (--count reached, or stopped by SIGTERM/SIGINT after finishing the window in flight);\n"
    "2 an error (queue unusable, stream missing, authorization refused); 64 bad arguments.\n";

struct CommonOptions {
  std::string token_file;
  std::uint64_t stat_seconds = 0;
  bool quiet = false;
  bool verbose = false;
};

void add_connection_options(CLI::App& app, NatsConfig& nats, CommonOptions& common) {
  app.add_option("--server", nats.servers, "NATS server URL (repeat, or separate by commas, for a cluster)")
      ->required()
      ->delimiter(',')
      ->type_name("URL");
  app.add_option("--creds", nats.credentials_file, "NATS credentials file (JWT and NKey seed)")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  app.add_option("--token-file", common.token_file, "File holding the NATS token (else $SHMQ_NATS_TOKEN)")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  app.add_option("--tls-ca", nats.tls_ca_file, "Trusted CA certificates (PEM); enables TLS")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  auto* cert = app.add_option("--tls-cert", nats.tls_cert_file, "Client certificate chain (PEM); enables TLS")
                   ->check(CLI::ExistingFile)
                   ->type_name("FILE");
  auto* key = app.add_option("--tls-key", nats.tls_key_file, "Client private key (PEM)")
                  ->check(CLI::ExistingFile)
                  ->type_name("FILE");
  cert->needs(key);
  key->needs(cert);
  app.add_option("--stat", common.stat_seconds, "Print a JSON status line to stdout every SECONDS")
      ->type_name("SECONDS");
  shmq_sample::add_verbosity_flags(app, common.quiet, common.verbose, "Also log each retry and the library's events");
}

// The token from --token-file (first line) or the environment; empty when neither is given.
std::string read_token(const std::string& token_file) {
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    std::string token;
    std::getline(in, token);
    if (!in && token.empty()) throw std::runtime_error(token_file + ": cannot read the NATS token");
    return token;
  }
  const char* from_env = std::getenv("SHMQ_NATS_TOKEN");
  return from_env != nullptr ? from_env : "";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "shmq-bridge"};
  app.footer(kFooter);
  app.require_subcommand(1);

  NatsConfig nats;
  CommonOptions common;
  OutOptions out;
  InOptions in;
  std::uint64_t duplicate_window_ms = 0;
  std::uint64_t ack_timeout_ms = 5000;
  std::string capacity_text = "64MiB";
  std::uint64_t ack_wait_s = 30;

  CLI::App* out_cmd = app.add_subcommand("out", "Publish a local queue's messages to a JetStream stream");
  out_cmd->add_option("--queue", out.queue, "The queue to read (as its consumer)")->required()->type_name("PATH");
  out_cmd->add_option("--subject", out.stream.subject, "Subject to publish on")->required();
  out_cmd->add_option("--stream", out.stream.name, "The JetStream stream that stores the subject")->required();
  out_cmd->add_flag("--create-stream", out.stream.create,
                    "Create the stream (file storage, this subject) if it does not exist; else a missing stream is "
                    "an error");
  out_cmd
      ->add_option("--duplicate-window", duplicate_window_ms,
                   "With --create-stream: the stream's duplicate window in ms (default: the server's, 2 min)")
      ->type_name("MS");
  out_cmd->add_option("--window", out.window, "Publishes in flight without acknowledgement, at most")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  out_cmd->add_option("--ack-timeout", ack_timeout_ms, "Resend a window not acknowledged within MS")
      ->type_name("MS")
      ->capture_default_str();
  out_cmd
      ->add_option("-n,--count", out.count,
                   "Exit once the queue's messages 0..N-1 are acknowledged by JetStream and released")
      ->type_name("N");
  add_connection_options(*out_cmd, nats, common);

  CLI::App* in_cmd = app.add_subcommand("in", "Publish a JetStream stream's messages into a local queue");
  in_cmd->add_option("--stream", in.stream, "The JetStream stream to read")->required();
  in_cmd->add_option("--consumer", in.consumer, "Name of the durable consumer (owned by the bridge)")->required();
  in_cmd->add_option("--queue", in.queue, "The queue to write (as its producer)")->required()->type_name("PATH");
  in_cmd->add_option("--subject", in.subject, "Subject filter (default: the stream's only subject)");
  in_cmd->add_flag("--create", in.create, "Create the queue if it does not exist");
  in_cmd->add_option("--capacity", capacity_text, "With --create: ring size")
      ->check(shmq_sample::size_validator())
      ->capture_default_str();
  in_cmd->add_flag("--durable", in.durable, "With --create: a durable queue (acknowledged only once durable)");
  in_cmd->add_option("--batch", in.batch, "Messages per fetch")->check(CLI::Range(1, 65536))->capture_default_str();
  in_cmd->add_option("--ack-wait", ack_wait_s, "JetStream redelivers what is not acknowledged within SECONDS")
      ->type_name("SECONDS")
      ->capture_default_str();
  in_cmd->add_option("-n,--count", in.count, "Exit once the queue holds messages 0..N-1, all acknowledged")
      ->type_name("N");
  add_connection_options(*in_cmd, nats, common);

  if (const std::optional<int> exit = shmq_sample::parse_command_line(app, argc, argv)) return *exit;

  const auto log = shmq_sample::setup_logging("shmq-bridge", shmq_sample::verbosity(common.quiet, common.verbose));
  spdlog::set_default_logger(log);
  shmq_sample::install_stop_handlers();
  const int status = shmq_sample::run_reporting_errors(*log, in.create, [&] {
    nats.token = read_token(common.token_file);
    if (out_cmd->parsed()) {
      out.stream.duplicate_window = std::chrono::milliseconds(duplicate_window_ms);
      out.ack_timeout = std::chrono::milliseconds(ack_timeout_ms);
      out.stat_interval = std::chrono::seconds(common.stat_seconds);
      return run_out(out, nats);
    }
    in.capacity = *shmq_sample::parse_size(capacity_text);
    in.ack_wait = std::chrono::seconds(ack_wait_s);
    in.stat_interval = std::chrono::seconds(common.stat_seconds);
    return run_in(in, nats);
  });
  nats_Close();  // libnats's threads and global state (else LeakSanitizer reports them)
  return status;
}
