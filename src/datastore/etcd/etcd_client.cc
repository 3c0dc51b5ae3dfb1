// The etcd v3 Client: datastore operations as etcd Range/Txn/DeleteRange calls, leases and the
// liveness-key helper.
#include "datastore/etcd/etcd_client.h"
#include "datastore/etcd/module.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "datastore/etcd/connection.h"
#include "datastore/etcd/watcher.h"

namespace brindle::datastore::etcd {
namespace {

using etcdserverpb::Compare;

// The key currentRevision() reads (count only) for the store's revision: inside /calico/, so a
// user granted only Calico's prefix (as Calico's docs set etcd up) may read it.
constexpr const char* kRevisionProbeKey = "/calico/";

KVPair toPair(const mvccpb::KeyValue& kv) {
  return KVPair{kv.key(), kv.value(), kv.mod_revision(), kv.create_revision()};
}

// The compare guarding `op`, if it has one.
bool guardFor(const TxnOp& op, Compare& cmp) {
  cmp.set_key(op.key);
  switch (op.type) {
    case TxnOp::Type::kPut:
      return false;
    case TxnOp::Type::kCreate:
      // A key that does not exist has create_revision 0.
      cmp.set_target(Compare::CREATE);
      cmp.set_result(Compare::EQUAL);
      cmp.set_create_revision(0);
      return true;
    case TxnOp::Type::kUpdate:
    case TxnOp::Type::kDelete:
      if (op.expectedRevision != 0) {
        cmp.set_target(Compare::MOD);
        cmp.set_result(Compare::EQUAL);
        cmp.set_mod_revision(op.expectedRevision);
      } else {
        // Exists: version counts the writes since creation and is 0 for an absent key.
        cmp.set_target(Compare::VERSION);
        cmp.set_result(Compare::GREATER);
        cmp.set_version(0);
      }
      return true;
  }
  return false;
}

class EtcdClientImpl : public EtcdClient {
 public:
  explicit EtcdClientImpl(std::shared_ptr<Connection> conn) : conn_(std::move(conn)) {}

  Result<KVPair> get(std::string_view key) override {
    if (key.empty()) return makeError(ErrorCode::kInvalid, "etcd get: empty key");
    etcdserverpb::RangeRequest req;
    req.set_key(std::string(key));
    etcdserverpb::RangeResponse resp;
    Status s = conn_->call(
        "get " + std::string(key), CallKind::kRead,
        [&](Endpoint& ep, grpc::ClientContext& ctx) { return ep.kv->Range(&ctx, req, &resp); });
    if (!s.isOk()) return s.error();
    if (resp.kvs_size() == 0) {
      return makeError(ErrorCode::kNotFound, "key " + std::string(key) + " not found");
    }
    return toPair(resp.kvs(0));
  }

  Result<ListResult> list(std::string_view prefix) override {
    // Pages at the first page's revision: one consistent snapshot, each response small. If
    // etcd compacts that revision between pages, start over at a newer one.
    for (int attempt = 0;; ++attempt) {
      ListResult out;
      etcdserverpb::RangeRequest req;
      req.set_key(prefix.empty() ? std::string(1, '\0') : std::string(prefix));
      req.set_range_end(prefixEnd(prefix));
      req.set_limit(conn_->options().pageSize);
      req.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
      req.set_sort_target(etcdserverpb::RangeRequest::KEY);
      bool more = true;
      Status s;
      while (more) {
        etcdserverpb::RangeResponse resp;
        s = conn_->call(
            "list " + std::string(prefix), CallKind::kRead,
            [&](Endpoint& ep, grpc::ClientContext& ctx) { return ep.kv->Range(&ctx, req, &resp); });
        if (!s.isOk()) break;
        if (out.revision == 0) {
          out.revision = resp.header().revision();
          req.set_revision(out.revision);
        }
        for (const auto& kv : resp.kvs()) out.items.push_back(toPair(kv));
        more = resp.more() && resp.kvs_size() > 0;
        if (more) req.set_key(out.items.back().key + '\0');
      }
      if (s.isOk()) return out;
      if (s.code() != ErrorCode::kCompacted || attempt >= 3) return s.error();
    }
  }

  Result<int64_t> create(std::string_view key, std::string_view value) override {
    BRINDLE_ASSIGN_OR_RETURN(auto r,
                             txn({{TxnOp::Type::kCreate, std::string(key), std::string(value)}}));
    return r.revision;
  }

  Result<int64_t> update(std::string_view key, std::string_view value,
                         int64_t expectedRevision) override {
    BRINDLE_ASSIGN_OR_RETURN(
        auto r,
        txn({{TxnOp::Type::kUpdate, std::string(key), std::string(value), expectedRevision}}));
    return r.revision;
  }

  Status remove(std::string_view key, int64_t expectedRevision) override {
    auto r = txn({{TxnOp::Type::kDelete, std::string(key), "", expectedRevision}});
    return r.status();
  }

  Result<TxnResult> txn(const std::vector<TxnOp>& ops) override {
    if (ops.empty()) {
      BRINDLE_ASSIGN_OR_RETURN(auto rev, currentRevision());
      return TxnResult{rev};
    }
    std::set<std::string_view> seen;
    for (const TxnOp& op : ops) {
      if (op.key.empty()) return makeError(ErrorCode::kInvalid, "etcd txn: empty key");
      if (!seen.insert(op.key).second) {
        return makeError(ErrorCode::kInvalid,
                         "key " + op.key + " appears more than once in one transaction");
      }
    }
    // Success: every op. Failure: read back each guarded key, to tell which guard failed.
    etcdserverpb::TxnRequest req;
    std::vector<size_t> guarded;  // op index of each failure-branch read
    for (size_t i = 0; i < ops.size(); ++i) {
      const TxnOp& op = ops[i];
      Compare cmp;
      if (guardFor(op, cmp)) {
        *req.add_compare() = cmp;
        req.add_failure()->mutable_request_range()->set_key(op.key);
        guarded.push_back(i);
      }
      auto* success = req.add_success();
      if (op.type == TxnOp::Type::kDelete) {
        success->mutable_request_delete_range()->set_key(op.key);
      } else {
        auto* put = success->mutable_request_put();
        put->set_key(op.key);
        put->set_value(op.value);
      }
    }
    const std::string what = ops.size() == 1
                                 ? std::string(txnOpName(ops[0].type)) + " " + ops[0].key
                                 : "txn of " + std::to_string(ops.size()) + " ops";
    etcdserverpb::TxnResponse resp;
    Status s = conn_->call(what, CallKind::kWrite, [&](Endpoint& ep, grpc::ClientContext& ctx) {
      return ep.kv->Txn(&ctx, req, &resp);
    });
    if (!s.isOk()) return s.error();
    if (resp.succeeded()) return TxnResult{resp.header().revision()};

    for (size_t g = 0; g < guarded.size() && g < static_cast<size_t>(resp.responses_size()); ++g) {
      const TxnOp& op = ops[guarded[g]];
      const auto& range = resp.responses(static_cast<int>(g)).response_range();
      const bool exists = range.kvs_size() > 0;
      const std::string verb = txnOpName(op.type);
      if (op.type == TxnOp::Type::kCreate) {
        if (exists) {
          return makeError(ErrorCode::kAlreadyExists,
                           verb + " " + op.key + ": the key already exists");
        }
        continue;
      }
      if (!exists) return makeError(ErrorCode::kNotFound, verb + " " + op.key + ": key not found");
      const int64_t mod = range.kvs(0).mod_revision();
      if (op.expectedRevision != 0 && mod != op.expectedRevision) {
        return makeError(ErrorCode::kConflict, verb + " " + op.key + ": expected revision " +
                                                   std::to_string(op.expectedRevision) +
                                                   " but the key is at " + std::to_string(mod) +
                                                   " (it was changed meanwhile)");
      }
    }
    return makeError(ErrorCode::kInternal,
                     "etcd " + what + ": the transaction's compare failed but no key explains it");
  }

  Result<WatcherPtr> watch(std::string_view prefix, int64_t afterRevision) override {
    if (afterRevision < 0) return makeError(ErrorCode::kInvalid, "watch: negative revision");
    return WatcherPtr(std::make_unique<EtcdWatcher>(conn_, std::string(prefix), afterRevision));
  }

  Result<int64_t> currentRevision() override {
    etcdserverpb::RangeRequest req;
    req.set_key(kRevisionProbeKey);
    req.set_count_only(true);
    etcdserverpb::RangeResponse resp;
    Status s = conn_->call(
        "read the revision", CallKind::kRead,
        [&](Endpoint& ep, grpc::ClientContext& ctx) { return ep.kv->Range(&ctx, req, &resp); });
    if (!s.isOk()) return s.error();
    return resp.header().revision();
  }

  Result<int64_t> grantLease(std::chrono::seconds ttl) override {
    etcdserverpb::LeaseGrantRequest req;
    req.set_ttl(std::max<int64_t>(1, ttl.count()));
    etcdserverpb::LeaseGrantResponse resp;
    Status s =
        conn_->call("grant lease", CallKind::kWrite, [&](Endpoint& ep, grpc::ClientContext& ctx) {
          return ep.lease->LeaseGrant(&ctx, req, &resp);
        });
    if (!s.isOk()) return s.error();
    if (!resp.error().empty()) {
      return makeError(ErrorCode::kInternal, "etcd grant lease: " + resp.error());
    }
    return resp.id();
  }

  Result<int64_t> keepAliveOnce(int64_t leaseId) override {
    etcdserverpb::LeaseKeepAliveRequest req;
    req.set_id(leaseId);
    etcdserverpb::LeaseKeepAliveResponse resp;
    bool answered = false;
    Status s = conn_->call("keep lease alive", CallKind::kRead,
                           [&](Endpoint& ep, grpc::ClientContext& ctx) {
                             auto stream = ep.lease->LeaseKeepAlive(&ctx);
                             answered = stream->Write(req) && stream->Read(&resp);
                             stream->WritesDone();
                             if (answered) ctx.TryCancel();
                             grpc::Status st = stream->Finish();
                             return answered ? grpc::Status::OK : st;
                           });
    if (!s.isOk()) return s.error();
    if (resp.ttl() <= 0) {
      return makeError(ErrorCode::kNotFound,
                       "etcd lease " + std::to_string(leaseId) + " expired or was revoked");
    }
    return resp.ttl();
  }

  Status revokeLease(int64_t leaseId) override {
    etcdserverpb::LeaseRevokeRequest req;
    req.set_id(leaseId);
    etcdserverpb::LeaseRevokeResponse resp;
    Status s =
        conn_->call("revoke lease", CallKind::kRead, [&](Endpoint& ep, grpc::ClientContext& ctx) {
          return ep.lease->LeaseRevoke(&ctx, req, &resp);
        });
    if (!s.isOk() && s.message().find("lease not found") != std::string::npos) {
      return makeError(ErrorCode::kNotFound,
                       "etcd lease " + std::to_string(leaseId) + " not found");
    }
    return s;
  }

  Result<int64_t> putWithLease(std::string_view key, std::string_view value,
                               int64_t leaseId) override {
    etcdserverpb::PutRequest req;
    req.set_key(std::string(key));
    req.set_value(std::string(value));
    req.set_lease(leaseId);
    etcdserverpb::PutResponse resp;
    Status s = conn_->call(
        "put " + std::string(key), CallKind::kWrite,
        [&](Endpoint& ep, grpc::ClientContext& ctx) { return ep.kv->Put(&ctx, req, &resp); });
    if (!s.isOk()) return s.error();
    return resp.header().revision();
  }

  Status compact(int64_t revision) override {
    etcdserverpb::CompactionRequest req;
    req.set_revision(revision);
    req.set_physical(true);
    etcdserverpb::CompactionResponse resp;
    Status s = conn_->call("compact", CallKind::kRead, [&](Endpoint& ep, grpc::ClientContext& ctx) {
      return ep.kv->Compact(&ctx, req, &resp);
    });
    // Already compacted that far: the history is gone either way.
    if (!s.isOk() && s.code() == ErrorCode::kCompacted) return Status::ok();
    return s;
  }

  Result<int64_t> deletePrefix(std::string_view prefix) override {
    etcdserverpb::DeleteRangeRequest req;
    req.set_key(prefix.empty() ? std::string(1, '\0') : std::string(prefix));
    req.set_range_end(prefixEnd(prefix));
    etcdserverpb::DeleteRangeResponse resp;
    Status s = conn_->call("delete prefix " + std::string(prefix), CallKind::kWrite,
                           [&](Endpoint& ep, grpc::ClientContext& ctx) {
                             return ep.kv->DeleteRange(&ctx, req, &resp);
                           });
    if (!s.isOk()) return s.error();
    return resp.deleted();
  }

  std::string endpointList() const override { return conn_->endpointList(); }

 private:
  std::shared_ptr<Connection> conn_;
};

class LivenessKeyImpl : public LivenessKey {
 public:
  LivenessKeyImpl(EtcdClient& client, std::string key, std::string value, std::chrono::seconds ttl,
                  int64_t leaseId)
      : client_(client),
        key_(std::move(key)),
        value_(std::move(value)),
        ttl_(ttl),
        leaseId_(leaseId) {
    thread_ = std::thread([this] { run(); });
  }

  ~LivenessKeyImpl() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    (void)client_.revokeLease(leaseId_.load());
  }

  int64_t leaseId() const override { return leaseId_.load(); }
  Status health() const override {
    std::lock_guard lock(mu_);
    return health_;
  }

 private:
  void run() {
    const auto period = std::max<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(ttl_) / 3,
        std::chrono::milliseconds(300));
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
      lock.unlock();
      Status s = renew();
      lock.lock();
      health_ = s;
    }
  }

  // Renews the lease; if it expired (etcd was away longer than the TTL) starts a new one and
  // writes the key again.
  Status renew() {
    auto ttl = client_.keepAliveOnce(leaseId_.load());
    if (ttl.isOk()) return Status::ok();
    if (ttl.code() != ErrorCode::kNotFound) return ttl.status();
    BRINDLE_ASSIGN_OR_RETURN(auto lease, client_.grantLease(ttl_));
    leaseId_ = lease;
    auto put = client_.putWithLease(key_, value_, lease);
    return put.status();
  }

  EtcdClient& client_;
  const std::string key_;
  const std::string value_;
  const std::chrono::seconds ttl_;
  std::atomic<int64_t> leaseId_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  Status health_;
  std::thread thread_;
};

}  // namespace

Result<LivenessKeyPtr> keepKeyAlive(EtcdClient& client, std::string key, std::string value,
                                    std::chrono::seconds ttl) {
  BRINDLE_ASSIGN_OR_RETURN(auto lease, client.grantLease(ttl));
  auto put = client.putWithLease(key, value, lease);
  if (!put) {
    (void)client.revokeLease(lease);
    return put.error();
  }
  return LivenessKeyPtr(
      std::make_unique<LivenessKeyImpl>(client, std::move(key), std::move(value), ttl, lease));
}

Result<EtcdClientPtr> openEtcdClient(const EtcdOptions& options) {
  BRINDLE_ASSIGN_OR_RETURN(auto conn, Connection::open(options));
  return EtcdClientPtr(std::make_unique<EtcdClientImpl>(std::move(conn)));
}

Result<ClientPtr> openEtcdStore(const EtcdOptions& options) {
  BRINDLE_ASSIGN_OR_RETURN(auto client, openEtcdClient(options));
  return ClientPtr(std::move(client));
}

// A program that links this backend opens etcd through it rather than loading the module too
// (module.h explains why the two must not meet).
namespace {
const bool kRegisteredAsLinked = (registerLinkedEtcdBackend(&openEtcdStore), true);
}  // namespace

}  // namespace brindle::datastore::etcd
