// NftExecutor: runs nftables command text as one transaction (what `nft -f` does) and lists
// objects in nftables' JSON. Two implementations: libnftables in this process (the agent; measured
// 7.5 ms for a new chain at the benchmark's shape against 12 ms for an `nft -f` process), and
// `nft` run through a CommandRunner (tests' namespaces via `ip netns exec`, simulators).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "os/process.h"

namespace brindle::dataplane {

class NftExecutor {
 public:
  virtual ~NftExecutor() = default;
  // `commands` (nft -f syntax, one command a line) as one atomic transaction. An error's
  // message is nft's, naming the failing line ("<cmdline>:12:1-30: Error: ...").
  virtual Status run(const std::string& commands) = 0;
  // Independent transactions (none needs another's objects), each atomic, committed in any
  // order and up to two at a time: one is parsed while the kernel commits the other. After a
  // failure no new one starts; the result is the first failure, with `failed` set to its index.
  // This implementation runs them one after the other.
  virtual Status runIndependent(const std::vector<std::string>& transactions, size_t* failed);
  // The same, parsed and evaluated but not committed (nft --check). nft 1.0.6 does not send it
  // to the kernel: what only the kernel refuses passes.
  virtual Status check(const std::string& commands) = 0;
  // `command` ("list table inet calico") with JSON output; kNotFound when the object is absent.
  virtual Result<std::string> listJson(const std::string& command) = 0;
};
using NftExecutorPtr = std::unique_ptr<NftExecutor>;

// libnftables in the calling process's network namespace.
Result<NftExecutorPtr> openLibNftables();
// `<prefix...> nft [-c] -f -` / `<prefix...> nft -j <command>` through `runner`; e.g. prefix
// {"ip", "netns", "exec", "ns1"}.
NftExecutorPtr nftCommandExecutor(os::CommandRunner& runner, std::vector<std::string> prefix = {});

}  // namespace brindle::dataplane
