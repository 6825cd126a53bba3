// One connection to NATS and its JetStream context, opened with retries.
//
// The bridge does its own reconnecting: libnats's automatic reconnect is off, so a connection that
// broke stays broken and every publish on it fails. The bridge then opens a new session and
// resends what JetStream has not acknowledged. (libnats would otherwise buffer publishes across
// a reconnect, and a publish written to the old socket and lost could be overtaken by a later one
// sent from the buffer: JetStream would store message k+1 without k.)
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nats/nats.h>

namespace shmq_bridge {

// How to reach the server. Secrets never come from the command line: the token and the password
// are read from the environment (SHMQ_NATS_TOKEN, SHMQ_NATS_PASSWORD) or from a file.
struct NatsConfig {
  std::vector<std::string> servers;  // nats://host:port, tls://host:port; several for a cluster
  std::string credentials_file;      // a .creds file (JWT and NKey seed)
  std::string token;                 // from SHMQ_NATS_TOKEN or --token-file
  std::string user;                  // --user or SHMQ_NATS_USER, with password
  std::string password;              // from SHMQ_NATS_PASSWORD or --password-file
  std::string tls_ca_file;           // trusted CAs (PEM); setting any TLS option requires TLS
  std::string tls_cert_file;         // client certificate chain (PEM), with tls_key_file
  std::string tls_key_file;
  std::string client_name = "shmq-bridge";
};

// A failure that retrying will not cure: bad credentials, a TLS setup error, a missing stream.
class FatalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "<status text>: <libnats's last error>" (and the JetStream error code when there is one).
std::string describe_nats_error(natsStatus status, jsErrCode js_error = static_cast<jsErrCode>(0));

// Statuses of a connection attempt that retrying will not change: authorization, TLS. Any other
// failure to connect is retried.
bool is_refusal(natsStatus status) noexcept;

// Statuses that mean "the server is not there (yet)": worth another attempt.
bool is_transient(natsStatus status) noexcept;

class NatsSession {
 public:
  // Connects, retrying with backoff while the server is unreachable (logged once per outage, then
  // at each attempt at debug level). Returns nullopt when a stop was requested while waiting.
  // Throws FatalError when the server refuses (authorization) or the options are unusable.
  // `js_options` (may be null) configures the JetStream context, e.g. its async publish window.
  static std::optional<NatsSession> connect(const NatsConfig& config, jsOptions* js_options = nullptr);

  natsConnection* connection() const noexcept { return connection_.get(); }
  jsCtx* jetstream() const noexcept { return jetstream_.get(); }
  bool closed() const noexcept;

 private:
  struct ConnectionDeleter {
    void operator()(natsConnection* c) const noexcept { natsConnection_Destroy(c); }
  };
  struct JetStreamDeleter {
    void operator()(jsCtx* js) const noexcept { jsCtx_Destroy(js); }
  };
  // Declared in this order so the context goes before its connection.
  std::unique_ptr<natsConnection, ConnectionDeleter> connection_;
  std::unique_ptr<jsCtx, JetStreamDeleter> jetstream_;
};

}  // namespace shmq_bridge
