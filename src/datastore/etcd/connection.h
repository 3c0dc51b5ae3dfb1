// The etcd client's plumbing, shared by the client and its watchers: one gRPC channel per
// endpoint, fail-over between them, deadlines, the auth token, and gRPC status -> Error mapping.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "datastore/etcd/etcd_client.h"
#include "rpc.grpc.pb.h"

namespace brindle::datastore::etcd {

struct Endpoint {
  std::string url;  // as configured, for messages
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Auth::Stub> auth;
};

// Whether a call may be sent again after its connection broke mid-flight.
enum class CallKind {
  kRead,   // repeatable: retried on another endpoint
  kWrite,  // not repeatable: retried only when it surely was not applied
};

using Rpc = std::function<grpc::Status(Endpoint&, grpc::ClientContext&)>;

// gRPC keepalive on every channel: how a member that stopped answering (hung, or its packets
// dropped) is noticed under an open watch: at most kKeepaliveTime + kKeepaliveTimeout after.
inline constexpr std::chrono::milliseconds kKeepaliveTime{6000};
inline constexpr std::chrono::milliseconds kKeepaliveTimeout{3000};

// The smallest key greater than every key starting with `prefix` ("\0" = no upper bound).
std::string prefixEnd(std::string_view prefix);

class Connection {
 public:
  static Result<std::shared_ptr<Connection>> open(const EtcdOptions& options);

  // Runs `rpc` against the endpoints, the last good one first, until one answers or the request
  // deadline passes. `what` names the operation in errors ("get /calico/x").
  Status call(std::string_view what, CallKind kind, const Rpc& rpc);

  // For watch streams, which manage their own retries: the endpoint to try next, a context
  // carrying the auth token (the stream has no deadline), and the outcome of an attempt.
  size_t preferred() const;
  // The preferred endpoint if its channel is connected, else the next one that is, else the
  // preferred one: a new stream should not wait on a dead member while another one answers.
  size_t preferredForStream() const;
  // Waits until some endpoint's channel is connected (true) or `until` passes (false).
  //
  // gRPC makes progress on a connection attempt (TCP connect, HTTP/2 handshake) only while some
  // thread waits on something interested in that channel: a call queued on it, or a watch of its
  // state. A call on a channel in back-off fails at once without waiting, so a process whose
  // calls all fail fast never drives the reconnection, and each attempt runs into its deadline
  // unattended ("timed out before receiving SETTINGS frame"): the client never recovers. Waiting
  // here is what lets a channel reconnect as soon as its member answers again.
  bool awaitAnyReady(std::chrono::system_clock::time_point until);
  Endpoint& endpoint(size_t index) { return endpoints_[index]; }
  size_t size() const { return endpoints_.size(); }
  Status prepareStream(size_t index, grpc::ClientContext& context);
  void reportFailure(size_t index);
  void reportSuccess(size_t index);
  // True (and the token is dropped, so the next call authenticates again) if `status` says the
  // token sent was not accepted.
  bool tokenRejected(const grpc::Status& status);

  // "endpoint: message" for a failed call, with a hint when the cause is recognisable (TLS).
  std::string describe(const Endpoint& endpoint, const grpc::Status& status) const;
  // The Error a final (not retried) gRPC failure maps to.
  Error toError(std::string_view what, const Endpoint& endpoint, const grpc::Status& status) const;

  std::string endpointList() const;
  const EtcdOptions& options() const { return options_; }

 private:
  explicit Connection(EtcdOptions options) : options_(std::move(options)) {}
  // The token to send ("" when auth is off), authenticating on `endpoint` if there is none.
  Result<std::string> token(Endpoint& endpoint, std::chrono::system_clock::time_point deadline);

  EtcdOptions options_;
  bool tls_ = false;
  std::vector<Endpoint> endpoints_;

  mutable std::mutex mu_;
  size_t preferred_ = 0;
  std::string token_;
  bool authDisabled_ = false;  // the server said auth is not enabled: send no token
  std::mutex authMu_;          // one Authenticate at a time
};

}  // namespace brindle::datastore::etcd
