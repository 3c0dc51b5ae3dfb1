// The etcd watcher: a stream per connection, a reader thread queueing events, and next() turning
// outages into kUnavailable-then-resume and lost history into kCompacted.
#include "datastore/etcd/watcher.h"

#include <algorithm>

namespace brindle::datastore::etcd {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Pause between reconnection attempts, so a caller polling next() does not hammer etcd.
constexpr std::chrono::milliseconds kRetryInterval{200};

WatchEvent toEvent(const mvccpb::Event& ev) {
  WatchEvent e;
  const mvccpb::KeyValue& kv = ev.kv();
  e.key = kv.key();
  e.revision = kv.mod_revision();
  if (ev.type() == mvccpb::Event::DELETE) {
    e.type = EventType::kDeleted;
    e.prevValue = ev.prev_kv().value();
  } else {
    e.type = kv.create_revision() == kv.mod_revision() ? EventType::kAdded : EventType::kUpdated;
    e.value = kv.value();
    if (e.type == EventType::kUpdated) e.prevValue = ev.prev_kv().value();
  }
  return e;
}

}  // namespace

EtcdWatcher::EtcdWatcher(std::shared_ptr<Connection> connection, std::string prefix,
                         int64_t afterRevision)
    : conn_(std::move(connection)),
      prefix_(std::move(prefix)),
      revision_(afterRevision),
      received_(afterRevision) {}

EtcdWatcher::~EtcdWatcher() {
  std::unique_lock lock(mu_);
  stopStream(lock);
}

void EtcdWatcher::stopStream(std::unique_lock<std::mutex>& lock) {
  if (reader_.joinable()) {
    if (context_) context_->TryCancel();
    std::thread reader = std::move(reader_);
    lock.unlock();
    reader.join();
    lock.lock();
  }
  context_.reset();
}

void EtcdWatcher::startAttempt(std::unique_lock<std::mutex>& lock) {
  stopStream(lock);
  const auto now = SteadyClock::now();
  nextAttempt_ = now + kRetryInterval;
  endpoint_ = conn_->preferredForStream();
  context_ = std::make_unique<grpc::ClientContext>();
  // Wait for the channel instead of failing at once while it reconnects: the reader thread
  // blocked on this stream is then what drives the reconnection (Connection::awaitAnyReady
  // explains why something must). connectDeadline_ bounds the wait.
  context_->set_wait_for_ready(true);
  Status prepared = conn_->prepareStream(endpoint_, *context_);
  if (!prepared.isOk()) {
    context_.reset();
    if (prepared.code() == ErrorCode::kUnavailable) {
      state_ = State::kIdle;
      outage_ = true;
      lastError_ = prepared.message();
      conn_->reportFailure(endpoint_);
    } else {
      state_ = State::kFailed;
      failCode_ = prepared.code();
      lastError_ = prepared.message();
    }
    return;
  }
  state_ = State::kConnecting;
  connectDeadline_ = now + conn_->options().dialTimeout;
  reader_ = std::thread(&EtcdWatcher::readStream, this, context_.get(), endpoint_, received_ + 1);
}

void EtcdWatcher::readStream(grpc::ClientContext* context, size_t endpointIndex,
                             int64_t startRevision) {
  Endpoint& ep = conn_->endpoint(endpointIndex);
  auto stream = ep.watch->Watch(context);
  etcdserverpb::WatchRequest req;
  auto* create = req.mutable_create_request();
  create->set_key(prefix_.empty() ? std::string(1, '\0') : prefix_);
  create->set_range_end(prefixEnd(prefix_));
  create->set_start_revision(startRevision);
  create->set_prev_kv(true);

  bool ended = false;  // compacted or cancelled by etcd: no reconnecting
  if (stream->Write(req)) {
    etcdserverpb::WatchResponse resp;
    while (stream->Read(&resp)) {
      std::lock_guard lock(mu_);
      if (resp.canceled()) {
        if (resp.compact_revision() > 0) {
          state_ = State::kCompacted;
          compactRevision_ = resp.compact_revision();
        } else {
          state_ = State::kFailed;
          failCode_ = resp.cancel_reason().find("permission denied") != std::string::npos
                          ? ErrorCode::kInvalid
                          : ErrorCode::kUnavailable;
          lastError_ = "etcd cancelled the watch: " + resp.cancel_reason();
        }
        ended = true;
        cv_.notify_all();
        break;
      }
      if (resp.created() && state_ == State::kConnecting) {
        state_ = State::kLive;
        conn_->reportSuccess(endpointIndex);
      }
      for (const auto& ev : resp.events()) {
        WatchEvent e = toEvent(ev);
        // Defensive: never hand out a revision twice across reconnects.
        if (e.revision < startRevision) continue;
        received_ = e.revision;
        queue_.push_back(std::move(e));
      }
      cv_.notify_all();
    }
  }
  if (ended) context->TryCancel();
  grpc::Status status = stream->Finish();
  std::lock_guard lock(mu_);
  if (ended) return;
  state_ = State::kIdle;
  outage_ = true;
  lastError_ = conn_->describe(ep, status);
  if (conn_->tokenRejected(status)) {
    retryAuth_ = true;
  } else if (status.error_code() != grpc::StatusCode::CANCELLED) {
    conn_->reportFailure(endpointIndex);
  }
  cv_.notify_all();
}

Result<std::vector<WatchEvent>> EtcdWatcher::next(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  std::unique_lock lock(mu_);
  auto unavailable = [&] {
    return makeError(ErrorCode::kUnavailable, "etcd watch on " + prefix_ + " (after revision " +
                                                  std::to_string(received_) + "): " + lastError_ +
                                                  "; next() keeps trying " + conn_->endpointList());
  };
  auto quiet = [&]() -> Result<std::vector<WatchEvent>> {
    if (outage_) return unavailable();
    return std::vector<WatchEvent>{};
  };
  while (true) {
    if (!queue_.empty()) {
      std::vector<WatchEvent> out(std::make_move_iterator(queue_.begin()),
                                  std::make_move_iterator(queue_.end()));
      queue_.clear();
      revision_ = out.back().revision;
      return out;
    }
    switch (state_) {
      case State::kCompacted:
        return makeError(ErrorCode::kCompacted,
                         "etcd watch on " + prefix_ + ": history after revision " +
                             std::to_string(received_) + " was compacted (etcd keeps revisions " +
                             std::to_string(compactRevision_) +
                             " and later); list again and watch from the list's revision");
      case State::kFailed:
        return makeError(failCode_, "etcd watch on " + prefix_ + ": " + lastError_);
      case State::kLive:
        outage_ = false;
        outageReported_ = false;
        if (cv_.wait_until(lock, deadline,
                           [&] { return !queue_.empty() || state_ != State::kLive; })) {
          continue;
        }
        return std::vector<WatchEvent>{};
      case State::kConnecting: {
        const auto until = std::min(deadline, connectDeadline_);
        if (cv_.wait_until(lock, until,
                           [&] { return !queue_.empty() || state_ != State::kConnecting; })) {
          continue;
        }
        if (SteadyClock::now() >= connectDeadline_) {
          stopStream(lock);
          state_ = State::kIdle;
          outage_ = true;
          lastError_ = conn_->endpoint(endpoint_).url + ": no answer to the watch request within " +
                       std::to_string(conn_->options().dialTimeout.count()) + "ms";
          conn_->reportFailure(endpoint_);
          continue;
        }
        return quiet();
      }
      case State::kIdle: {
        if (outage_ && !outageReported_) {
          outageReported_ = true;
          return unavailable();
        }
        const auto now = SteadyClock::now();
        if (retryAuth_ || now >= nextAttempt_) {
          retryAuth_ = false;
          startAttempt(lock);
          continue;
        }
        if (now >= deadline) return quiet();
        const auto until = std::min(deadline, nextAttempt_);
        lock.unlock();
        // The pause between attempts drives the channels' reconnection: a plain sleep would
        // leave their connection attempts unattended (Connection::awaitAnyReady).
        const auto left = until - SteadyClock::now();
        if (conn_->awaitAnyReady(std::chrono::system_clock::now() +
                                 std::chrono::duration_cast<std::chrono::milliseconds>(left))) {
          std::this_thread::sleep_until(until);  // connected: the pause still holds
        }
        lock.lock();
        if (SteadyClock::now() >= deadline && state_ == State::kIdle) return quiet();
        continue;
      }
    }
  }
}

}  // namespace brindle::datastore::etcd
