#include "nats_session.hpp"

#include <spdlog/spdlog.h>

#include "backoff.hpp"
#include "stop_signal.hpp"

namespace shmq_bridge {
namespace {

struct OptionsDeleter {
  void operator()(natsOptions* o) const noexcept { natsOptions_Destroy(o); }
};
using OptionsHandle = std::unique_ptr<natsOptions, OptionsDeleter>;

void check_option(natsStatus status, const char* what) {
  if (status != NATS_OK) throw FatalError(std::string("NATS option ") + what + ": " + describe_nats_error(status));
}

OptionsHandle make_options(const NatsConfig& config) {
  natsOptions* raw = nullptr;
  check_option(natsOptions_Create(&raw), "create");
  OptionsHandle options(raw);
  std::vector<const char*> servers;
  for (const std::string& s : config.servers) servers.push_back(s.c_str());
  check_option(natsOptions_SetServers(raw, servers.data(), static_cast<int>(servers.size())), "servers");
  check_option(natsOptions_SetName(raw, config.client_name.c_str()), "name");
  check_option(natsOptions_SetAllowReconnect(raw, false), "no automatic reconnect");
  check_option(natsOptions_SetTimeout(raw, 2000), "connect timeout");
  if (!config.credentials_file.empty()) {
    check_option(natsOptions_SetUserCredentialsFromFiles(raw, config.credentials_file.c_str(), nullptr),
                 "credentials file");
  }
  if (!config.token.empty()) check_option(natsOptions_SetToken(raw, config.token.c_str()), "token");
  if (!config.user.empty()) {
    check_option(natsOptions_SetUserInfo(raw, config.user.c_str(), config.password.c_str()), "user and password");
  }
  if (!config.tls_ca_file.empty() || !config.tls_cert_file.empty()) {
    check_option(natsOptions_SetSecure(raw, true), "TLS");
  }
  if (!config.tls_ca_file.empty()) {
    check_option(natsOptions_LoadCATrustedCertificates(raw, config.tls_ca_file.c_str()), "TLS CA file");
  }
  if (!config.tls_cert_file.empty()) {
    check_option(natsOptions_LoadCertificatesChain(raw, config.tls_cert_file.c_str(), config.tls_key_file.c_str()),
                 "TLS certificate and key");
  }
  return options;
}

std::string server_list(const NatsConfig& config) {
  std::string list;
  for (const std::string& s : config.servers) list += (list.empty() ? "" : ",") + s;
  return list;
}

}  // namespace

std::string describe_nats_error(natsStatus status, jsErrCode js_error) {
  std::string text = natsStatus_GetText(status);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && text != last) text += std::string(": ") + last;
  if (js_error != 0) text += " (JetStream error " + std::to_string(static_cast<int>(js_error)) + ")";
  return text;
}

bool is_refusal(natsStatus status) noexcept {
  switch (status) {
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NOT_PERMITTED:
    case NATS_SECURE_CONNECTION_WANTED:
    case NATS_SECURE_CONNECTION_REQUIRED:
    case NATS_SSL_ERROR:
      return true;
    default:
      return false;
  }
}

bool is_transient(natsStatus status) noexcept {
  switch (status) {
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:  // the server is up but JetStream is not ready yet
    case NATS_NOT_YET_CONNECTED:
      return true;
    default:
      return false;
  }
}

std::optional<NatsSession> NatsSession::connect(const NatsConfig& config, jsOptions* js_options) {
  const OptionsHandle options = make_options(config);
  Backoff backoff;
  bool waiting_logged = false;
  while (!stop_requested()) {
    natsConnection* raw = nullptr;
    const natsStatus status = natsConnection_Connect(&raw, options.get());
    if (status == NATS_OK) {
      NatsSession session;
      session.connection_.reset(raw);
      jsCtx* js = nullptr;
      const natsStatus js_status = natsConnection_JetStream(&js, raw, js_options);
      if (js_status != NATS_OK) throw FatalError("JetStream context: " + describe_nats_error(js_status));
      session.jetstream_.reset(js);
      if (waiting_logged) spdlog::info("connected to NATS at {}", server_list(config));
      return session;
    }
    if (is_refusal(status)) {
      throw FatalError("NATS server " + server_list(config) +
                       " refused the connection: " + describe_nats_error(status));
    }
    const auto pause = backoff.next();
    if (!waiting_logged) {
      spdlog::warn("waiting for the NATS server at {} ({}); retrying with backoff up to 5 s", server_list(config),
                   describe_nats_error(status));
      waiting_logged = true;
    } else {
      spdlog::debug("NATS server at {} still unreachable; next attempt in {} ms", server_list(config), pause.count());
    }
    sleep_unless_stopped(pause);
  }
  return std::nullopt;
}

bool NatsSession::closed() const noexcept { return natsConnection_IsClosed(connection_.get()); }

}  // namespace shmq_bridge
