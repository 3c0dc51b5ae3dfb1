// Channels, fail-over, deadlines, auth token and error mapping for the etcd client.
#include "datastore/etcd/connection.h"

#include <grpc/support/log.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/strings.h"

namespace brindle::datastore::etcd {
namespace {

using Clock = std::chrono::system_clock;

Result<std::string> readFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return makeError(ErrorCode::kInvalid,
                     std::string("cannot read the etcd ") + what + " file " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// gRPC reports a failed TLS handshake to the caller only as "handshaker shutdown"; the reason
// (certificate verify failed, bad certificate) goes to its log. The log hook is process-wide in
// gRPC, so the last TLS reason is kept process-wide too, only to explain failures. gRPC's own
// log output stays off unless BRINDLE_GRPC_LOG is set: our errors say what went wrong.
struct TlsDiagnosis {
  std::mutex mu;
  std::string reason;
  std::chrono::steady_clock::time_point at;
};

TlsDiagnosis& tlsDiagnosis() {
  static TlsDiagnosis* d = new TlsDiagnosis;  // never destroyed: gRPC threads may log at exit
  return *d;
}

void installGrpcLog() {
  static std::once_flag once;
  std::call_once(once, [] {
    gpr_set_log_function([](gpr_log_func_args* args) {
      if (std::getenv("BRINDLE_GRPC_LOG") != nullptr) {
        std::fprintf(stderr, "grpc: %s:%d %s\n", args->file, args->line, args->message);
      }
      std::string_view file = args->file ? args->file : "";
      std::string_view msg = args->message ? args->message : "";
      if (args->severity == GPR_LOG_SEVERITY_ERROR &&
          (file.find("ssl_transport_security") != std::string_view::npos ||
           msg.find("SSL") != std::string_view::npos)) {
        TlsDiagnosis& d = tlsDiagnosis();
        std::lock_guard lock(d.mu);
        // The first line of a burst names the cause; later ones ("Corruption detected") don't.
        if (std::chrono::steady_clock::now() - d.at > std::chrono::milliseconds(50) ||
            msg.find("error:") != std::string_view::npos) {
          d.reason = std::string(msg);
          d.at = std::chrono::steady_clock::now();
        }
      }
    });
  });
}

// The TLS failure gRPC logged in the last few seconds, if any.
std::string recentTlsReason() {
  TlsDiagnosis& d = tlsDiagnosis();
  std::lock_guard lock(d.mu);
  if (d.reason.empty() || std::chrono::steady_clock::now() - d.at > std::chrono::seconds(10)) {
    return "";
  }
  return d.reason;
}

// Errors etcd returns before a write is proposed to raft: safe to send the write elsewhere.
bool notAppliedServerError(std::string_view message) {
  return containsIgnoreCase(message, "etcdserver: no leader") ||
         containsIgnoreCase(message, "etcdserver: not capable") ||
         containsIgnoreCase(message, "etcdserver: too many requests");
}

std::string millis(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

}  // namespace

std::string prefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::string(1, '\0');
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

Result<std::shared_ptr<Connection>> Connection::open(const EtcdOptions& options) {
  installGrpcLog();
  if (options.endpoints.empty()) {
    return makeError(ErrorCode::kInvalid, "no etcd endpoints configured");
  }
  if (options.certFile.empty() != options.keyFile.empty()) {
    return makeError(ErrorCode::kInvalid,
                     "etcd client certificate and key go together: set both the cert file and "
                     "the key file, or neither");
  }
  if (options.username.empty() && !options.password.empty()) {
    return makeError(ErrorCode::kInvalid, "an etcd password is set but no username");
  }
  if (options.pageSize <= 0 || options.requestTimeout.count() <= 0 ||
      options.dialTimeout.count() <= 0) {
    return makeError(ErrorCode::kInvalid, "etcd page size and timeouts must be positive");
  }
  std::shared_ptr<Connection> conn(new Connection(options));

  std::vector<std::pair<std::string, bool>> targets;  // host:port, tls
  for (const std::string& url : options.endpoints) {
    std::string_view rest = url;
    bool tls = false;
    if (rest.starts_with("https://")) {
      tls = true;
      rest.remove_prefix(8);
    } else if (rest.starts_with("http://")) {
      rest.remove_prefix(7);
    } else if (rest.find("://") != std::string_view::npos) {
      return makeError(ErrorCode::kInvalid,
                       "etcd endpoint " + url + ": expected http://host:port or https://host:port");
    }
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.empty() || rest.find('/') != std::string_view::npos ||
        rest.find(':') == std::string_view::npos) {
      return makeError(ErrorCode::kInvalid,
                       "etcd endpoint " + url + ": expected http://host:port or https://host:port");
    }
    targets.emplace_back(std::string(rest), tls);
    conn->tls_ = conn->tls_ || tls;
  }
  bool anyPlain = std::any_of(targets.begin(), targets.end(), [](auto& t) { return !t.second; });
  if (conn->tls_ && anyPlain) {
    return makeError(ErrorCode::kInvalid,
                     "etcd endpoints mix http:// and https://; use one scheme for all");
  }
  if (!conn->tls_ && !(options.caFile.empty() && options.certFile.empty())) {
    return makeError(ErrorCode::kInvalid,
                     "etcd certificate files are set but the endpoints use http://; use https:// "
                     "endpoints for TLS");
  }

  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (conn->tls_) {
    grpc::SslCredentialsOptions ssl;
    if (!options.caFile.empty()) {
      BRINDLE_ASSIGN_OR_RETURN(ssl.pem_root_certs, readFile(options.caFile, "CA certificate"));
    }
    if (!options.certFile.empty()) {
      BRINDLE_ASSIGN_OR_RETURN(auto cert, readFile(options.certFile, "client certificate"));
      BRINDLE_ASSIGN_OR_RETURN(auto key, readFile(options.keyFile, "client key"));
      ssl.pem_cert_chain = cert;
      ssl.pem_private_key = key;
    }
    creds = grpc::SslCredentials(ssl);
  }

  grpc::ChannelArguments args;
  // Large lists arrive in pages, but one value may be up to etcd's own 1.5 MiB request limit.
  args.SetMaxReceiveMessageSize(64 << 20);
  // Reconnect quickly when a member comes back (gRPC's default backoff grows to two minutes).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // gRPC takes the "minimum reconnect backoff" as the deadline of one connection attempt, TCP
  // connect and HTTP/2 handshake included. 100 ms (our earlier value) cut attempts short whenever
  // the handshake was not driven at once; a second bounds a hung attempt (a stopped member, a
  // dropped SYN) while leaving a live member ample time to answer.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
  // Notice a silently dead member (stopped, or packets dropped) under an open watch. etcd refuses
  // pings closer than 5 s (--grpc-keepalive-min-time), so every 6 s, 3 s for the answer. gRPC
  // would otherwise stop pinging after two pings on a connection that carries no data (an idle
  // watch), and space such pings five minutes apart.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(kKeepaliveTime.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(kKeepaliveTimeout.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS,
              static_cast<int>(kKeepaliveTime.count()));
  // Our retry loop decides what may be re-sent.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  for (size_t i = 0; i < targets.size(); ++i) {
    Endpoint ep;
    ep.url = options.endpoints[i];
    ep.channel = grpc::CreateCustomChannel(targets[i].first, creds, args);
    ep.kv = etcdserverpb::KV::NewStub(ep.channel);
    ep.watch = etcdserverpb::Watch::NewStub(ep.channel);
    ep.lease = etcdserverpb::Lease::NewStub(ep.channel);
    ep.auth = etcdserverpb::Auth::NewStub(ep.channel);
    conn->endpoints_.push_back(std::move(ep));
  }
  return conn;
}

size_t Connection::preferred() const {
  std::lock_guard lock(mu_);
  return preferred_;
}

size_t Connection::preferredForStream() const {
  const size_t first = preferred();
  for (size_t k = 0; k < endpoints_.size(); ++k) {
    const size_t i = (first + k) % endpoints_.size();
    if (endpoints_[i].channel->GetState(false) == GRPC_CHANNEL_READY) return i;
  }
  return first;
}

bool Connection::awaitAnyReady(Clock::time_point until) {
  // Waiting on a completion queue that receives the channels' state changes is what drives their
  // connection attempts (see the header). A watch cannot be cancelled, and the queue must outlive
  // every watch armed on it, so the wait goes in short slices: each slice's watches end (by a
  // change or their deadline) before the slice returns.
  constexpr auto kSlice = std::chrono::milliseconds(50);
  while (true) {
    const auto now = Clock::now();
    const auto sliceEnd = std::min(until, now + kSlice);
    std::vector<grpc_connectivity_state> states;
    for (const auto& ep : endpoints_) {
      states.push_back(ep.channel->GetState(true));  // true: connect if idle
      if (states.back() == GRPC_CHANNEL_READY) return true;
    }
    if (now >= until) return false;
    // From here on every watch armed must have completed before `cq` is destroyed.
    grpc::CompletionQueue cq;
    size_t armed = 0;
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      endpoints_[i].channel->NotifyOnStateChange(states[i], sliceEnd, &cq,
                                                 reinterpret_cast<void*>(uintptr_t{i}));
      ++armed;
    }
    void* tag = nullptr;
    bool changed = false;
    bool ready = false;
    while (armed > 0 && cq.Next(&tag, &changed)) {
      --armed;
      if (!changed) continue;  // this slice's deadline
      // Keep watching (and so driving) a channel whose attempt moved on, until the slice ends.
      const auto i = reinterpret_cast<uintptr_t>(tag);
      const auto state = endpoints_[i].channel->GetState(false);
      if (state == GRPC_CHANNEL_READY) ready = true;
      if (!ready && Clock::now() < sliceEnd) {
        endpoints_[i].channel->NotifyOnStateChange(state, sliceEnd, &cq, tag);
        ++armed;
      }
    }
    cq.Shutdown();
    while (cq.Next(&tag, &changed)) {
    }
    if (ready) return true;
  }
}

void Connection::reportFailure(size_t index) {
  std::lock_guard lock(mu_);
  if (preferred_ == index) preferred_ = (index + 1) % endpoints_.size();
}

void Connection::reportSuccess(size_t index) {
  std::lock_guard lock(mu_);
  preferred_ = index;
}

std::string Connection::endpointList() const {
  std::string out;
  for (const auto& ep : endpoints_) out += (out.empty() ? "" : ",") + ep.url;
  return out;
}

Result<std::string> Connection::token(Endpoint& endpoint, Clock::time_point deadline) {
  if (options_.username.empty()) return std::string();
  {
    std::lock_guard lock(mu_);
    if (authDisabled_) return std::string();
    if (!token_.empty()) return token_;
  }
  std::lock_guard authLock(authMu_);
  {
    std::lock_guard lock(mu_);
    if (!token_.empty()) return token_;  // another thread authenticated meanwhile
  }
  etcdserverpb::AuthenticateRequest req;
  req.set_name(options_.username);
  req.set_password(options_.password);
  etcdserverpb::AuthenticateResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  // A channel in back-off would fail the call at once without trying to reconnect (see
  // awaitAnyReady); waiting for it drives the reconnection, within the deadline.
  ctx.set_wait_for_ready(endpoint.channel->GetState(false) == GRPC_CHANNEL_TRANSIENT_FAILURE);
  grpc::Status s = endpoint.auth->Authenticate(&ctx, req, &resp);
  if (!s.ok()) {
    if (containsIgnoreCase(s.error_message(), "authentication is not enabled")) {
      std::lock_guard lock(mu_);
      authDisabled_ = true;
      return std::string();
    }
    if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
        containsIgnoreCase(s.error_message(), "authentication failed")) {
      return makeError(ErrorCode::kInvalid, "etcd authentication failed for user '" +
                                                options_.username + "' at " + endpoint.url +
                                                ": wrong username or password (" +
                                                s.error_message() + ")");
    }
    return makeError(ErrorCode::kUnavailable, describe(endpoint, s));
  }
  std::lock_guard lock(mu_);
  token_ = resp.token();
  return token_;
}

bool Connection::tokenRejected(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAUTHENTICATED &&
      !containsIgnoreCase(status.error_message(), "invalid auth token")) {
    return false;
  }
  std::lock_guard lock(mu_);
  token_.clear();
  return true;
}

Status Connection::prepareStream(size_t index, grpc::ClientContext& context) {
  BRINDLE_ASSIGN_OR_RETURN(auto tok, token(endpoints_[index], Clock::now() + options_.dialTimeout));
  if (!tok.empty()) context.AddMetadata("token", tok);
  // A member cut off from the quorum would keep the stream open but deliver nothing: with
  // this etcd ends the stream when the member has no leader, and the watcher moves elsewhere.
  context.AddMetadata("hasleader", "true");
  return Status::ok();
}

std::string Connection::describe(const Endpoint& endpoint, const grpc::Status& status) const {
  std::string msg = status.error_message();
  std::string hint;
  // A client certificate the server rejects shows only after the handshake (TLS 1.3), as a
  // failed read; gRPC's log then holds the alert that says why.
  if (tls_ && (containsIgnoreCase(msg, "handshake") || containsIgnoreCase(msg, "ssl") ||
               containsIgnoreCase(msg, "tls") ||
               (containsIgnoreCase(msg, "read failed") && !recentTlsReason().empty()))) {
    const std::string why = recentTlsReason() + " " + msg;
    if (containsIgnoreCase(why, "certificate verify failed") ||
        containsIgnoreCase(why, "unknown ca") || containsIgnoreCase(why, "self signed") ||
        containsIgnoreCase(why, "self-signed")) {
      hint = "TLS: the server's certificate is not trusted by the CA file " +
             (options_.caFile.empty() ? std::string("(none set: system roots)") : options_.caFile);
    } else if (containsIgnoreCase(why, "certificate required") ||
               containsIgnoreCase(why, "bad certificate") ||
               containsIgnoreCase(why, "handshake failure") || containsIgnoreCase(why, "alert")) {
      hint = options_.certFile.empty()
                 ? "TLS: the server rejected the connection; it requires a client certificate "
                   "(set the etcd cert and key files)"
                 : "TLS: the server rejected the client certificate " + options_.certFile;
    } else {
      hint = "TLS handshake failed";
    }
    const std::string reason = recentTlsReason();
    if (!reason.empty()) msg = reason + "; " + msg;
  }
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    msg = "no answer within the deadline (" + msg + ")";
  }
  return endpoint.url + ": " + (hint.empty() ? msg : hint + " (" + msg + ")");
}

Error Connection::toError(std::string_view what, const Endpoint& endpoint,
                          const grpc::Status& status) const {
  const std::string& msg = status.error_message();
  std::string prefix = "etcd " + std::string(what) + ": ";
  if (containsIgnoreCase(msg, "required revision has been compacted") ||
      status.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
    return makeError(ErrorCode::kCompacted, prefix + msg);
  }
  if (containsIgnoreCase(msg, "user name is empty") ||
      (status.error_code() == grpc::StatusCode::PERMISSION_DENIED && options_.username.empty())) {
    return makeError(ErrorCode::kInvalid,
                     prefix +
                         "etcd requires authentication: set a username and password "
                         "(etcdUsername/etcdPassword or ETCD_USERNAME/ETCD_PASSWORD)");
  }
  if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    return makeError(ErrorCode::kInvalid, prefix + "permission denied for etcd user '" +
                                              options_.username + "' (" + msg + ")");
  }
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::UNAUTHENTICATED:
      return makeError(ErrorCode::kInvalid, prefix + msg + " (" + endpoint.url + ")");
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return makeError(ErrorCode::kUnavailable, prefix + describe(endpoint, status));
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::UNKNOWN:
      // E.g. an HTTP server or proxy that is not etcd answering on the endpoint.
      return makeError(
          ErrorCode::kUnavailable,
          prefix + endpoint.url + " does not answer as an etcd v3 server (" + msg + ")");
    default:
      return makeError(ErrorCode::kInternal, prefix + msg + " (" + endpoint.url + ")");
  }
}

Status Connection::call(std::string_view what, CallKind kind, const Rpc& rpc) {
  const auto start = Clock::now();
  const auto deadline = start + options_.requestTimeout;
  const size_t n = endpoints_.size();
  std::vector<std::string> failures(n);
  bool tokenRefreshed = false;
  const size_t first = preferred();

  while (true) {
    bool worthWaiting = false;  // a member answered "not now" (e.g. electing a leader)
    bool unreachable = false;   // a member could not be reached: it may be coming back
    for (size_t k = 0; k < n; ++k) {
      const size_t i = (first + k) % n;
      const auto now = Clock::now();
      if (now >= deadline) break;
      Endpoint& ep = endpoints_[i];
      // A channel that is not connected gets dialTimeout, so one dead member cannot use up
      // the whole budget before the others are tried.
      const bool connected = ep.channel->GetState(false) == GRPC_CHANNEL_READY;
      const auto attemptDeadline =
          connected ? deadline : std::min(deadline, now + options_.dialTimeout);

      auto tok = token(ep, attemptDeadline);
      if (!tok) {
        if (tok.code() != ErrorCode::kUnavailable) return tok.error();
        failures[i] = tok.message();
        reportFailure(i);
        unreachable = true;
        continue;
      }
      grpc::ClientContext ctx;
      ctx.set_deadline(attemptDeadline);
      if (!tok->empty()) ctx.AddMetadata("token", *tok);
      grpc::Status s = rpc(ep, ctx);
      if (s.ok()) {
        reportSuccess(i);
        return Status::ok();
      }
      if (!tok->empty() && !tokenRefreshed && tokenRejected(s)) {
        // The token expired (etcd's simple tokens time out when idle): fetch a new one and try
        // the same endpoint again, once.
        tokenRefreshed = true;
        --k;
        continue;
      }
      const auto code = s.error_code();
      const bool transport =
          code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED;
      if (!transport) return toError(what, ep, s);
      // Later attempts on a refused endpoint only say "handshaker shutdown", and those after a
      // failed TLS handshake "Endpoint read failed": keep the first, telling reason
      // ("Connection refused", the TLS diagnosis).
      const bool tlsDiagnosed = failures[i].find(": TLS") != std::string::npos;
      if (failures[i].empty() ||
          (!tlsDiagnosed && !containsIgnoreCase(s.error_message(), "handshaker shutdown"))) {
        failures[i] = describe(ep, s);
      }
      if (notAppliedServerError(s.error_message())) {
        worthWaiting = true;
        continue;
      }
      // EPIPE: the peer had closed the connection before the request was written out.
      const bool neverSent = !connected ||
                             containsIgnoreCase(s.error_message(), "failed to connect") ||
                             containsIgnoreCase(s.error_message(), "Broken pipe");
      if (neverSent || kind == CallKind::kRead) {
        reportFailure(i);
        unreachable = true;
        if (containsIgnoreCase(s.error_message(), "etcdserver:")) worthWaiting = true;
        continue;
      }
      return makeError(ErrorCode::kUnavailable,
                       "etcd " + std::string(what) +
                           ": the connection failed after the request was sent, so it may or may "
                           "not have been applied; check and retry (" +
                           failures[i] + ")");
    }
    // "Not now" answers get the whole request budget; unreachable members get dialTimeout in
    // all, spent driving their channels' reconnection (awaitAnyReady), so a member that is
    // coming back answers within it.
    const auto now = Clock::now();
    if (worthWaiting) {
      const auto pause = std::chrono::milliseconds(100);
      if (now + pause >= deadline) break;
      std::this_thread::sleep_for(pause);
      continue;
    }
    const auto dialEnd = std::min(deadline, start + options_.dialTimeout);
    if (!unreachable || now >= dialEnd) break;
    if (!awaitAnyReady(dialEnd)) break;
    // A channel is connected: try again (not in a tight loop if it keeps failing at once).
    if (Clock::now() - now < std::chrono::milliseconds(20)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::string detail;
  for (size_t i = 0; i < n; ++i) {
    detail +=
        (detail.empty() ? "" : "; ") +
        (failures[i].empty() ? endpoints_[i].url + ": not tried (deadline reached)" : failures[i]);
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return makeError(ErrorCode::kUnavailable,
                   "etcd " + std::string(what) + ": no etcd endpoint answered (tried " +
                       endpointList() + " for " + millis(elapsed) + "): " + detail);
}

}  // namespace brindle::datastore::etcd
