// The two NftExecutors: libnftables in this process (a fresh context for each call, made ahead
// on another thread) and the `nft` program through a CommandRunner.
#include "dataplane/nft_executor.h"

#include <nftables/libnftables.h>

#include <atomic>
#include <future>
#include <mutex>
#include <sstream>

namespace brindle::dataplane {
namespace {

// nft's words for a listed object that does not exist (parser and kernel alike).
bool saysAbsent(const std::string& error) {
  return error.find("No such file or directory") != std::string::npos;
}

nft_ctx* newContext() {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx) {
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
  }
  return ctx;
}

// Runs `fn` on a thread of its own and waits for it. A transaction makes nft allocate and free
// some 10^5 small objects (its cache of the table's chains and sets, the parsed rules). On the
// agent's thread those come from glibc's main arena, which the agent's own maps keep large and
// fragmented; a new thread gets an arena of its own (the one the previous such thread left).
// Measured at the agent benchmark's shape, one endpoint's transaction: 11 ms on the agent's
// thread, 7.8 ms on its own. The thread inherits the caller's network namespace.
template <typename F>
auto onOwnThread(F&& fn) {
  return std::async(std::launch::async, std::forward<F>(fn)).get();
}

// One transaction through `ctx`; the error is nft's, naming the failing line.
Status runOn(nft_ctx* ctx, const std::string& commands) {
  const int rc = nft_run_cmd_from_buffer(ctx, commands.c_str());
  (void)nft_ctx_get_output_buffer(ctx);  // reading a buffer empties it
  std::string err = nft_ctx_get_error_buffer(ctx);
  if (rc == 0) return Status::ok();
  return makeError(ErrorCode::kUnavailable, "libnftables: " + err);
}

// nft's cache (every chain and set of the table, and after a listing every rule) is freed only
// with its context, and is stale after any commit anyway (our own included: the next command
// fetches it again). So each call gets a fresh context, made on another thread while the agent
// does other work, and the used one is freed there too. Measured at the agent benchmark's shape:
// a context kept holds 5-8 MB (39 MB at 4x) between applies, 30 MB after a listing; making one
// costs ~15 ms, which a call would otherwise wait for.
class LibNftables : public NftExecutor {
 public:
  explicit LibNftables(nft_ctx* ctx) : ctx_(ctx) {}
  ~LibNftables() override {
    take();
    if (ctx_) nft_ctx_free(ctx_);
  }

  Status run(const std::string& commands) override {
    std::lock_guard lock(mu_);
    return runLocked(commands);
  }

  Status runIndependent(const std::vector<std::string>& transactions, size_t* failed) override {
    std::lock_guard lock(mu_);
    if (!take()) return noContext();
    // Two lanes, each with a context of its own (the one made ahead, and one made on the spot),
    // taking the next transaction as they go. The kernel commits one batch at a time; nft's
    // parsing and evaluation, about half of a cold start's time, overlap it. A lane's context
    // fetches nft's cache again before each transaction (any commit makes it stale).
    // libnftables 1.0.6 keeps little global state: its one-time library set-up ran with the
    // first context (openLibNftables); the dump generation id it shares between contexts can
    // only make a cache dump overlapping the other lane's commit start again, as any commit
    // would; the ids it numbers anonymous sets and chains with are per transaction in the kernel.
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex firstMu;
    Status first = Status::ok();
    size_t firstAt = transactions.size();
    auto lane = [&](nft_ctx* ctx) {
      if (!ctx) ctx = newContext();
      if (!ctx) {
        std::lock_guard l(firstMu);
        if (first) first = noContext();
        stop = true;
        return;
      }
      for (size_t i; !stop && (i = next++) < transactions.size();) {
        Status s = runOn(ctx, transactions[i]);
        if (s) continue;
        std::lock_guard l(firstMu);
        if (i < firstAt) {
          first = std::move(s);
          firstAt = i;
        }
        stop = true;
      }
      nft_ctx_free(ctx);
    };
    auto other = std::async(std::launch::async, lane, nullptr);
    auto own = std::async(std::launch::async, lane, ctx_);
    own.get();
    other.get();
    ctx_ = nullptr;  // the own lane freed it
    renewAhead();
    if (failed) *failed = firstAt;
    return first;
  }

  Status check(const std::string& commands) override {
    std::lock_guard lock(mu_);
    if (!take()) return noContext();
    nft_ctx_set_dry_run(ctx_, true);  // the context is used for this call only
    return runLocked(commands);
  }

  Result<std::string> listJson(const std::string& command) override {
    std::lock_guard lock(mu_);
    if (!take()) return noContext();
    const unsigned int flags = nft_ctx_output_get_flags(ctx_);
    nft_ctx_output_set_flags(ctx_, flags | NFT_CTX_OUTPUT_JSON);
    const int rc = onOwnThread([&] { return nft_run_cmd_from_buffer(ctx_, command.c_str()); });
    nft_ctx_output_set_flags(ctx_, flags);
    std::string out = nft_ctx_get_output_buffer(ctx_);  // reading a buffer empties it
    std::string err = nft_ctx_get_error_buffer(ctx_);
    renewAhead();
    if (rc == 0) return out;
    return makeError(saysAbsent(err) ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                     "libnftables: " + command + ": " + err);
  }

 private:
  Status runLocked(const std::string& commands) {
    if (!take()) return noContext();
    Status s = onOwnThread([&] { return runOn(ctx_, commands); });
    renewAhead();
    return s;
  }
  // The context for the next call: the one made ahead, once ready (made now if that failed).
  bool take() {
    if (next_.valid()) ctx_ = next_.get();
    if (!ctx_) ctx_ = newContext();
    return ctx_ != nullptr;
  }
  // Frees the used context (if any) and makes the next one on another thread. The thread
  // inherits the caller's network namespace, so the new context talks to the same one.
  void renewAhead() {
    next_ = std::async(std::launch::async, [used = ctx_] {
      if (used) nft_ctx_free(used);
      return newContext();
    });
    ctx_ = nullptr;
  }
  static Status noContext() {
    return makeError(ErrorCode::kUnavailable, "libnftables: nft_ctx_new failed");
  }

  std::mutex mu_;  // one call at a time (runIndependent runs its lanes inside one call)
  nft_ctx* ctx_;
  std::future<nft_ctx*> next_;
};

class NftCommand : public NftExecutor {
 public:
  NftCommand(os::CommandRunner& runner, std::vector<std::string> prefix)
      : runner_(runner), prefix_(std::move(prefix)) {}

  Status run(const std::string& commands) override { return runNft({"-f", "-"}, commands); }
  Status check(const std::string& commands) override { return runNft({"-c", "-f", "-"}, commands); }

  Result<std::string> listJson(const std::string& command) override {
    std::vector<std::string> args = {"-j"};
    std::istringstream words(command);
    for (std::string word; words >> word;) args.push_back(word);
    BRINDLE_ASSIGN_OR_RETURN(auto out, runner_.run({argv(args), ""}));
    if (out.exitCode == 0) return std::move(out.out);
    return makeError(saysAbsent(out.err) ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                     "nft -j " + command + " failed: " + out.err);
  }

 private:
  std::vector<std::string> argv(const std::vector<std::string>& args) const {
    std::vector<std::string> all = prefix_;
    all.push_back("nft");
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }
  Status runNft(const std::vector<std::string>& args, const std::string& input) {
    BRINDLE_ASSIGN_OR_RETURN(auto out, runner_.run({argv(args), input}));
    if (out.exitCode == 0) return Status::ok();
    return makeError(ErrorCode::kUnavailable, "nft failed: " + out.err);
  }

  os::CommandRunner& runner_;
  std::vector<std::string> prefix_;
};

}  // namespace

Status NftExecutor::runIndependent(const std::vector<std::string>& transactions, size_t* failed) {
  for (size_t i = 0; i < transactions.size(); ++i) {
    if (Status s = run(transactions[i]); !s) {
      if (failed) *failed = i;
      return s;
    }
  }
  if (failed) *failed = transactions.size();
  return Status::ok();
}

Result<NftExecutorPtr> openLibNftables() {
  nft_ctx* ctx = newContext();
  if (!ctx) return makeError(ErrorCode::kUnavailable, "libnftables: nft_ctx_new failed");
  return NftExecutorPtr(std::make_unique<LibNftables>(ctx));
}

NftExecutorPtr nftCommandExecutor(os::CommandRunner& runner, std::vector<std::string> prefix) {
  return std::make_unique<NftCommand>(runner, std::move(prefix));
}

}  // namespace brindle::dataplane
