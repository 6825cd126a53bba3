// One factory per transport file. A transport built without its package (iceoryx, ZeroMQ) still
// has a factory: it returns a transport that reports itself unavailable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../transport.hpp"

namespace bench {

// durable_*: a durable queue in config.disk_dir, busy-poll copying send (checksums on, the durable
// default) with 1 ms or 10 ms checkpoints, or with no timed checkpoints and sync() every 32 messages.
enum class ShmqMode {
  busy_poll,
  checksummed,
  blocking,
  zero_copy,
  batched,
  durable_1ms,
  durable_10ms,
  durable_sync,
  busy_poll_full_fences,  // OpenOptions::fencing = full: the fallback protocol, one fence per message
  blocking_full_fences,
};
enum class IceoryxWait { busy_poll, wait_set };
enum class UnixSocketKind { stream, seqpacket };

std::unique_ptr<Transport> make_shmq_transport(const Config& config, ShmqMode mode);
std::string shmq_transport_name(ShmqMode mode);  // the row's name
std::unique_ptr<Transport> make_boost_message_queue_transport();
std::unique_ptr<Transport> make_boost_spsc_queue_transport();
// Both iceoryx transports share the one iox-roudi the harness starts (and stops when the last goes).
std::vector<std::unique_ptr<Transport>> make_iceoryx_transports(const Config& config);
std::unique_ptr<Transport> make_zeromq_transport();
std::unique_ptr<Transport> make_pipe_transport();
std::unique_ptr<Transport> make_unix_socket_transport(UnixSocketKind kind);
std::unique_ptr<Transport> make_posix_mqueue_transport();

// A row that can never run here, with the reason (a package the build did not find).
std::unique_ptr<Transport> make_unavailable_transport(std::string name, Waiting waiting, std::string reason);

// Every transport, in table order.
std::vector<std::unique_ptr<Transport>> make_all_transports(const Config& config);

// A name unique to this harness process and call, for queues, segments and endpoints.
std::string unique_resource_name(const std::string& prefix);

}  // namespace bench
