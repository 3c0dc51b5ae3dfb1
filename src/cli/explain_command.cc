// brindlectl explain; see explain_command.h.
#include "cli/explain_command.h"

#include <CLI/CLI.hpp>

#include "explain/report.h"
#include "model/kinds.h"

namespace brindle::cli {
namespace {

// The kinds explain reads: what the agent reads to police a packet, and Nodes for host:NODE.
constexpr model::Kind kKinds[] = {
    model::Kind::kWorkloadEndpoint, model::Kind::kHostEndpoint, model::Kind::kGlobalNetworkPolicy,
    model::Kind::kNetworkPolicy,    model::Kind::kTier,         model::Kind::kProfile,
    model::Kind::kGlobalNetworkSet, model::Kind::kNetworkSet,   model::Kind::kNode,
};

class Explain : public ExplainCommand {
 public:
  explicit Explain(CLI::App& app) {
    cmd_ = app.add_subcommand("explain",
                              "Show which policy rule decides a packet (model, and kernel with "
                              "--live)");
    cmd_->add_option("from", from_, "NODE/NAME, NAMESPACE/NAME, NAME, an IP or host:NODE")
        ->required();
    cmd_->add_option("to", to_, "NODE/NAME, NAMESPACE/NAME, NAME, an IP or host:NODE")->required();
    cmd_->add_option("protocol", proto_,
                     "tcp[/PORT], udp[/PORT], sctp[/PORT], icmp[/TYPE[/CODE]] or a number")
        ->required();
    cmd_->add_option("--sport", sport_, "Source port (default: unknown)")
        ->check(CLI::Range(1, 65535));
    cmd_->add_option("-o,--output", output_, "text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    cmd_->add_flag("--live", live_, "Also walk the packet through the nodes' iptables and ipsets");
    cmd_->add_option("--node-netns", netns_,
                     "Network namespace holding the node's kernel state (NS, or NODE=NS per node)");
    cmd_->add_option("--from-dump", dumpDir_,
                     "Directory of saved state: [NODE/]iptables-save.txt, ipset.txt or "
                     "ipset-list.txt (as node diags saves them)");
  }

  bool parsed() const override { return cmd_->parsed(); }

  int run(Session& session) override {
    auto fail = [&](const std::string& message) {
      session.err() << "Error: " << message << "\n";
      return 1;
    };
    auto store = session.store(Session::Access::kRead);
    if (!store) return fail(store.message());
    std::vector<model::Resource> resources;
    for (model::Kind kind : kKinds) {
      auto listing = (*store)->listReadable(kind);
      if (!listing) return fail(listing.message());
      for (const auto& bad : listing->bad) {
        session.warn({bad.key + ": " + bad.reason + " (left out)"});
      }
      resources.insert(resources.end(), listing->items.begin(), listing->items.end());
    }
    const explain::Cluster cluster = explain::Cluster::load(resources);
    session.warn(cluster.warnings);
    auto packet = explain::parsePacket(proto_);
    if (!packet) return fail(packet.message());
    if (sport_) packet->sourcePort = static_cast<uint16_t>(sport_);
    auto from = explain::resolvePeer(cluster, from_);
    if (!from) return fail("FROM: " + from.message());
    auto to = explain::resolvePeer(cluster, to_);
    if (!to) return fail("TO: " + to.message());
    const explain::ModelPath path = explain::explainModel(cluster, *from, *to, *packet);
    std::optional<explain::LivePath> live;
    if (live_) {
      if (!netns_.empty() && !dumpDir_.empty()) {
        return fail("--node-netns and --from-dump exclude each other");
      }
      auto result = explain::explainLive(path, [&](const std::string& node, bool v6) {
        if (!dumpDir_.empty()) return explain::KernelState::fromDump(dumpDir_, node, v6);
        return explain::KernelState::fromNetns(netnsOf(node), v6);
      });
      if (!result) return fail(result.message());
      live = std::move(*result);
    }
    if (output_ == "json") {
      model::Json j = explain::modelPathJson(path);
      if (live) j["live"] = explain::livePathJson(*live);
      session.out() << j.dump(2) << "\n";
    } else {
      explain::printModelPath(session.out(), path);
      if (live) explain::printLivePath(session.out(), *live);
    }
    // A disagreement between model and kernel is a bug: say so in the exit code too.
    return live && !live->mismatches.empty() ? 2 : 0;
  }

 private:
  // NODE=NS entries name a node's namespace; a bare NS serves every node ("" is ours).
  std::string netnsOf(const std::string& node) const {
    std::string fallback;
    for (const auto& entry : netns_) {
      const size_t eq = entry.find('=');
      if (eq == std::string::npos) {
        fallback = entry;
      } else if (entry.substr(0, eq) == node) {
        return entry.substr(eq + 1);
      }
    }
    return fallback;
  }

  CLI::App* cmd_;
  std::string from_, to_, proto_;
  int sport_ = 0;
  std::string output_ = "text";
  bool live_ = false;
  std::vector<std::string> netns_;
  std::string dumpDir_;
};

}  // namespace

std::unique_ptr<ExplainCommand> addExplainCommand(CLI::App& app) {
  return std::make_unique<Explain>(app);
}

}  // namespace brindle::cli
