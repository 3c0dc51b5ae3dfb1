// The etcd v3 datastore: a brindle::datastore::Client that speaks etcd's gRPC API, with TLS,
// username/password auth, several endpoints with fail-over, deadlines and leases for liveness keys.
//
// Design (docs/etcd.md has the longer version):
// - One gRPC channel per endpoint. A call goes to the endpoint that last answered; when it cannot
//   be reached the next one is tried, so a dead member is skipped. Every call has a deadline: with
//   no reachable endpoint a call fails with kUnavailable naming every endpoint and its error.
// - A write whose connection broke after it was sent is not re-sent elsewhere (it may have been
//   applied): it fails with kUnavailable saying the outcome is unknown. Reads are retried.
// - create/update/remove/txn are one etcd Txn each: the compares guard every op (create:
//   create_revision == 0; expectedRevision: mod_revision == it; plain update/delete: version > 0)
//   and the failure branch reads the compared keys back, so the error names the failing key.
// - list() pages through the prefix (pageSize keys a call) at the revision of its first page, so
//   the result is one consistent snapshot however large.
// - Watchers open their etcd stream on the first next(), resume from their revision after an
//   outage (reporting kUnavailable once) and report kCompacted when etcd no longer has the
//   history they need.
//
// Thread safety: an EtcdClient may be shared between threads. A Watcher is used by one thread at
// a time and may outlive the client that made it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "datastore/client.h"

namespace brindle::datastore::etcd {

struct EtcdOptions {
  // Client URLs: http://host:port or https://host:port (https means TLS). At least one.
  std::vector<std::string> endpoints;
  // Both empty: no auth. Otherwise a token is fetched with Authenticate and refreshed when etcd
  // says it is no longer valid.
  std::string username;
  std::string password;
  // PEM files for TLS (Calico's ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE). Without a CA
  // file the system's roots are used. Cert and key go together (client-certificate auth).
  std::string caFile;
  std::string certFile;
  std::string keyFile;
  // Budget of one operation, all retries and endpoints included.
  std::chrono::milliseconds requestTimeout{5000};
  // Budget of one attempt on an endpoint that is not yet connected, so one unreachable member
  // cannot eat the whole requestTimeout.
  std::chrono::milliseconds dialTimeout{2000};
  // Keys per Range call in list(); keeps responses far below gRPC's message size limit.
  int64_t pageSize = 500;
};

// The etcd client: the datastore interface plus the etcd-only calls (leases, compaction).
class EtcdClient : public Client {
 public:
  // Grants a lease of `ttl` (at least a second); returns its ID.
  virtual Result<int64_t> grantLease(std::chrono::seconds ttl) = 0;
  // Renews the lease once; returns its remaining TTL in seconds. kNotFound if it expired.
  virtual Result<int64_t> keepAliveOnce(int64_t leaseId) = 0;
  // Revokes the lease: etcd deletes every key attached to it.
  virtual Status revokeLease(int64_t leaseId) = 0;
  // Writes `key` unconditionally, attached to `leaseId` (it disappears with the lease).
  virtual Result<int64_t> putWithLease(std::string_view key, std::string_view value,
                                       int64_t leaseId) = 0;
  // Discards history before `revision` (etcd's Compact, waiting until it is applied).
  virtual Status compact(int64_t revision) = 0;
  // Deletes every key starting with `prefix`; returns how many there were.
  virtual Result<int64_t> deletePrefix(std::string_view prefix) = 0;
  // The endpoints as configured, comma-separated, for messages.
  virtual std::string endpointList() const = 0;
};
using EtcdClientPtr = std::unique_ptr<EtcdClient>;

// Keeps a liveness key alive: grants a lease of `ttl`, writes key=value on it, and renews it
// from a background thread every ttl/3. Destruction revokes the lease, so the key vanishes at
// once; if the process dies the key vanishes when the TTL runs out.
class LivenessKey {
 public:
  virtual ~LivenessKey() = default;
  virtual int64_t leaseId() const = 0;
  // The last renewal's outcome (ok while etcd keeps confirming the lease).
  virtual Status health() const = 0;
};
using LivenessKeyPtr = std::unique_ptr<LivenessKey>;

// `client` must outlive the returned object.
Result<LivenessKeyPtr> keepKeyAlive(EtcdClient& client, std::string key, std::string value,
                                    std::chrono::seconds ttl);

// Validates the options and sets up the channels; contacts etcd only on the first call.
// kInvalid for bad options (no endpoints, unreadable certificate files, bad URLs).
Result<EtcdClientPtr> openEtcdClient(const EtcdOptions& options);
Result<ClientPtr> openEtcdStore(const EtcdOptions& options);

}  // namespace brindle::datastore::etcd
