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
    "Credentials: --creds FILE; a token in SHMQ_NATS_TOKEN or --token-file; a user (--user or\n"
    "SHMQ_NATS_USER) with a password in SHMQ_NATS_PASSWORD or --password-file. Secrets are never taken\n"
    "from the command line. See docs/BRIDGE.md.\n";

constexpr const char* kFooter =
    "Examples:\n"
    "  shmq-bridge out --queue /dev/shm/a --server nats://127.0.0.1:4222 --subject orders --stream ORDERS "
    "--create-stream\n"
    "  shmq-bridge in --server nats://127.0.0.1:4222 --stream ORDERS --consumer to-b --queue /dev/shm/b --create\n"
    "\n"
    "Exit status: 0 done (--count reached, or stopped by SIGTERM/SIGINT after finishing the window in flight);\n"
    "2 an error (queue unusable, stream missing or not storing the subject, authorization refused, a message\n"
    "JetStream refuses for good, in: the source queue changed or the local queue was not filled by in);\n"
    "64 bad arguments.\n";

struct CommonOptions {
  std::string token_file;
  std::string password_file;
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
  app.add_option("--user", nats.user, "NATS user name (else $SHMQ_NATS_USER); the password from --password-file")
      ->type_name("NAME");
  app.add_option("--password-file", common.password_file,
                 "File holding the NATS user's password (else $SHMQ_NATS_PASSWORD)")
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

// A secret from `file` (its first line) or else the environment variable `variable`; empty when
// neither is given.
std::string read_secret(const std::string& file, const char* variable, const char* what) {
  if (!file.empty()) {
    std::ifstream in(file);
    std::string secret;
    std::getline(in, secret);
    if (!in && secret.empty()) throw std::runtime_error(file + ": cannot read the NATS " + what);
    return secret;
  }
  const char* from_env = std::getenv(variable);
  return from_env != nullptr ? from_env : "";
}

// Credentials from the files and the environment; a password written into a server URL works
// (libnats takes it) but every user of the machine can read it in the process list.
void read_credentials(NatsConfig& nats, const CommonOptions& common) {
  nats.token = read_secret(common.token_file, "SHMQ_NATS_TOKEN", "token");
  if (nats.user.empty()) {
    const char* user = std::getenv("SHMQ_NATS_USER");
    nats.user = user != nullptr ? user : "";
  }
  nats.password = read_secret(common.password_file, "SHMQ_NATS_PASSWORD", "password");
  if (!nats.password.empty() && nats.user.empty()) {
    throw std::runtime_error(
        "a NATS password is given (--password-file or SHMQ_NATS_PASSWORD) but no user "
        "(--user or SHMQ_NATS_USER)");
  }
  for (const std::string& url : nats.servers) {
    const std::string::size_type scheme = url.find("://");
    const std::string::size_type at = url.find('@');
    if (at != std::string::npos && url.find(':', scheme == std::string::npos ? 0 : scheme + 3) < at) {
      spdlog::warn(
          "a --server URL holds a password, which every user of this machine can read in the process "
          "list: give it in SHMQ_NATS_PASSWORD or --password-file, with --user");
    }
  }
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
  out_cmd->add_option("--replicas", out.stream.replicas, "With --create-stream: the stream's replicas (a cluster)")
      ->check(CLI::Range(1, 5))
      ->capture_default_str();
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
    read_credentials(nats, common);
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
