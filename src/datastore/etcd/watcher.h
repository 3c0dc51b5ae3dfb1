// A Watcher over an etcd watch stream that survives outages: it resumes from the revision after
// the last event it received, so every change reaches the caller exactly once.
//
// The stream is opened by the first next() (so a watcher that was never read from sees the
// history as it is at that moment, like the local store's). A reader thread per stream queues
// events; next() hands them out, re-opens the stream after an outage (reporting kUnavailable
// once per outage, then trying again on each call, endpoint after endpoint) and reports
// kCompacted for good once etcd says the history it needs is gone.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "datastore/client.h"
#include "datastore/etcd/connection.h"

namespace brindle::datastore::etcd {

class EtcdWatcher : public Watcher {
 public:
  EtcdWatcher(std::shared_ptr<Connection> connection, std::string prefix, int64_t afterRevision);
  ~EtcdWatcher() override;

  Result<std::vector<WatchEvent>> next(std::chrono::milliseconds timeout) override;
  int64_t revision() const override { return revision_; }

 private:
  enum class State {
    kIdle,        // no stream yet, or the last attempt failed (see lastError_)
    kConnecting,  // a stream is being opened
    kLive,        // etcd confirmed the watch
    kCompacted,   // etcd dropped history the watcher needs: final
    kFailed,      // etcd cancelled the watch for another reason (e.g. permission): final
  };

  // Starts a reader thread opening a stream on the preferred endpoint. Needs mu_ held.
  void startAttempt(std::unique_lock<std::mutex>& lock);
  // Cancels the current stream, if any, and joins its thread. Needs mu_ held (released inside).
  void stopStream(std::unique_lock<std::mutex>& lock);
  void readStream(grpc::ClientContext* context, size_t endpointIndex, int64_t startRevision);

  const std::shared_ptr<Connection> conn_;
  const std::string prefix_;
  int64_t revision_;  // last event handed out

  std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::kIdle;
  std::deque<WatchEvent> queue_;
  int64_t received_;  // revision of the last event queued: the next stream resumes after it
  std::string lastError_;
  bool outage_ = false;          // a stream broke and the caller has not seen it live again
  bool outageReported_ = false;  // ... and next() already returned kUnavailable for it
  bool retryAuth_ = false;       // the last stream failed on an expired token: retry at once
  int64_t compactRevision_ = 0;
  ErrorCode failCode_ = ErrorCode::kUnavailable;  // for kFailed
  size_t endpoint_ = 0;                           // of the current or last stream
  std::chrono::steady_clock::time_point connectDeadline_;
  std::chrono::steady_clock::time_point nextAttempt_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::thread reader_;
};

}  // namespace brindle::datastore::etcd
