// The agent's dataplane: applies what the managers wrote; see dataplane_driver.h.
#include "agent/dataplane_driver.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "agent/metrics.h"
#include "dataplane/refusal.h"
#include "rules/names.h"

namespace brindle::agent {

using dataplane::Chain;
using dataplane::IpVersion;
using dataplane::TableName;

DataplaneDriver::DataplaneDriver(DataplaneDeps deps, rules::RendererConfig config)
    : Managers(deps.tables,
               deps.nftables ? static_cast<dataplane::IpSets*>(deps.nftables) : deps.ipsets,
               deps.routes, std::move(config)),
      deps_(std::move(deps)) {
  for (IpVersion v : {IpVersion::kV4, IpVersion::kV6}) {
    std::vector<dataplane::IptablesTable*> tables;
    for (const auto& t : deps_.tables) {
      auto* iptables = dynamic_cast<dataplane::IptablesTable*>(t.table);
      if (t.version == v && iptables) tables.push_back(iptables);
    }
    if (tables.empty()) continue;
    writers_.push_back(std::make_unique<dataplane::IptablesWriter>(tables));
    writerVersions_.push_back(v);
  }
}

void DataplaneDriver::rulesOwnerChanged(const std::string& owner, bool removed) {
  if (removed) {
    suspects_.erase(owner);
    if (refused_.erase(owner) > 0) refreshRefusedReport();
    return;
  }
  suspects_.insert(owner);
  keepStandIns(owner);
}

void DataplaneDriver::keepStandIns(const std::string& owner) {
  auto it = refused_.find(owner);
  if (it == refused_.end()) return;
  // Rendered again as it was refused: the stand-ins stay (asking the kernel again is the
  // resync's job). Anything else is new and goes to the kernel as it is.
  auto& list = it->second;
  for (auto r = list.begin(); r != list.end();) {
    auto* t = table(r->version, TableName::kFilter);
    const Chain* now = t ? t->desiredChain(r->real.name) : nullptr;
    if (now && *now == r->real) {
      t->updateChain(r->stub);
      ++r;
    } else {
      r = list.erase(r);
    }
  }
  if (list.empty()) refused_.erase(it);
  refreshRefusedReport();
}

bool DataplaneDriver::retryPendingRoutes() {
  if (!deps_.routes) return false;
  if (deps_.routes->pendingRoutes().empty() && deps_.routes->pendingInterfaceGroups().empty())
    return false;
  dirty_ = true;
  return true;
}

void DataplaneDriver::requestResync() {
  for (const auto& t : deps_.tables) {
    if (auto* iptables = dynamic_cast<dataplane::IptablesTable*>(t.table))
      iptables->requestResync();
  }
  if (deps_.ipsets) deps_.ipsets->requestResync();
  if (deps_.nftables) deps_.nftables->requestResync();
  resyncRequested_ = true;
  dirty_ = true;
}

Status DataplaneDriver::apply() {
  auto t0 = std::chrono::steady_clock::now();
  std::string timing;  // per step, for the debug log
  auto step = [&](const std::string& what) {
    auto now = std::chrono::steady_clock::now();
    timing += " " + what + "=" +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::microseconds>(now - t0).count() / 1000.0)
                  .substr(0, 6) +
              "ms";
    t0 = now;
  };
  renderAggregates();
  step("render");
  // A start in nftables mode may find the workload interfaces in group 0 (iptables ran them,
  // or nothing did): they get their groups before the table whose dispatch admits them only by
  // those groups is committed, or new connections would meet "Unknown interface" in between.
  // Links carrying another group of ours (a previous agent's table admits them by it) keep it
  // until the routes step, and the first commit admits them with it too.
  if (!applied_ && deps_.nftables && deps_.routes) {
    std::map<std::string, uint32_t> carried;
    if (Status s = deps_.routes->applyGroupsOfUngroupedLinks(carried); !s) {
      spdlog::warn("device groups before the first nftables apply: {}", s.message());
    }
    if (adoptLinkGroups(carried)) renderAggregates();
    step("groups");
  }
  Status result = deps_.nftables ? applyNftables() : applyIptables(step);
  if (deps_.nftables) step("nftables");
  auto fail = [&](const std::string& what, const Status& s) {
    result = makeError(s.code(), what + ": " + s.message());
  };
  // Routes last: a workload becomes reachable only once the policy guarding it is in place.
  if (result && deps_.routes) {
    if (Status s = deps_.routes->apply(); !s) fail("routes", s);
    step("routes");
  }
  spdlog::debug("apply:{}", timing);
  if (result) {
    dirty_ = false;
    resyncRequested_ = false;
    suspects_.clear();  // all of it is in the kernel (or stood in for): nothing left to suspect
    applied_ = true;
    if (!afterApplyDone_)
      afterApplyDone_ = !deps_.afterApplyUntilDone || deps_.afterApplyUntilDone();
    // The links carry their new groups now: the groups they left go with the next apply.
    retireLeavingGroups();
  }
  updateMetrics();
  return result;
}

Status DataplaneDriver::applyIptables(const std::function<void(const std::string&)>& step) {
  Status result = Status::ok();
  auto fail = [&](const std::string& what, const Status& s) {
    result = makeError(s.code(), what + ": " + s.message());
  };
  // Sets are created first (iptables-restore resolves set names while it parses) and filled on
  // another thread while iptables-restore runs. When sets were created, the restore's final
  // sections, which make new rules reachable, are committed only once the fill has succeeded
  // (a rule never sees a new, still empty set); member changes of existing sets need no wait.
  std::thread fill;
  Status filled = Status::ok();
  bool created = false;
  if (deps_.ipsets) {
    if (Status s = deps_.ipsets->applyCreations(&created); !s) {
      fail("ipset", s);
    } else {
      fill = std::thread([this, &filled] { filled = deps_.ipsets->applyUpdates(); });
    }
  }
  auto waitForFill = [&]() -> Status {
    if (!fill.joinable()) return Status::ok();
    fill.join();
    step("ipsets");
    if (!filled) return makeError(filled.code(), "ipset: " + filled.message());
    return Status::ok();
  };
  if (result && resyncRequested_ && !refused_.empty()) retryRefused();
  if (result) {
    for (size_t i = 0; i < writers_.size(); ++i) {
      Status s = writers_[i]->apply(created ? std::function<Status()>(waitForFill) : nullptr);
      // The writer ran the fill (the gate) whatever happened; a failed fill is not a refusal.
      if (!s && filled && isolateRefused(writerVersions_[i], s)) {
        step("isolate");
        s = writers_[i]->apply(nullptr);
      }
      if (!s) {
        result = s;
        break;
      }
      step(i == 0 ? "iptables" : "ip6tables");
    }
  }
  if (Status s = waitForFill(); !s && result) result = s;  // no writers, or one failed first
  if (result && deps_.ipsets) {
    if (Status s = deps_.ipsets->applyDeletions(); !s) fail("ipset deletions", s);
    step("ipset-deletions");
  }
  return result;
}

Status DataplaneDriver::applyNftables() {
  if (resyncRequested_ && !refused_.empty()) retryRefused();
  Status s = deps_.nftables->apply();
  // A refusal names a line of the transaction; the writer's probes find the rules behind it.
  if (!s && isolateRefused(dataplane::IpVersion::kV4, s)) s = deps_.nftables->apply();
  if (!s && versions().size() > 1 && isolateRefused(dataplane::IpVersion::kV6, s)) {
    s = deps_.nftables->apply();
  }
  if (s) return s;
  return makeError(s.code(), "nftables: " + s.message());
}

// --- refused rules: found, stood in for by DROPs, reported, asked about again. ---

namespace {

std::string escapeLabel(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c == '\n' ? ' ' : c);
  }
  return out;
}

const char* ipVersionDigit(IpVersion version) { return version == IpVersion::kV4 ? "4" : "6"; }

std::string firstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "(no message)" : line;
}

}  // namespace

Result<dataplane::ProbeResult> DataplaneDriver::probeFilterRules(
    IpVersion version, const std::vector<std::vector<dataplane::Rule>>& chains) {
  if (deps_.nftables) return deps_.nftables->probe(TableName::kFilter, version, chains);
  auto* t = dynamic_cast<dataplane::IptablesTable*>(table(version, TableName::kFilter));
  if (!t) return makeError(ErrorCode::kInternal, "no filter table to probe");
  return dataplane::probeRules(t->runner(), t->restoreCommand(), TableName::kFilter, chains);
}

bool DataplaneDriver::isolateRefused(IpVersion version, const Status& error) {
  auto* t = table(version, TableName::kFilter);
  if (!t || counts_.empty() || !dataplane::namesInputLine(error.message())) return false;
  // The suspects: chains of policies and profiles (their rules come from users; the agent's own
  // chains are fixed templates), first those changed since the last good apply, then the others.
  std::vector<std::string> owners;
  std::vector<std::vector<const Chain*>> chains;
  auto suspect = [&](bool changed) {
    owners.clear();
    chains.clear();
    for (const auto& entry : counts_) {
      const std::string& owner = entry.first;
      if (suspects_.count(owner) != static_cast<size_t>(changed)) continue;
      auto it = owned_.find(owner);
      if (it == owned_.end()) continue;
      std::vector<const Chain*> list;
      for (const auto& o : it->second) {
        if (o.version != version || o.table != TableName::kFilter) continue;
        if (const Chain* c = t->desiredChain(o.chain); c && !c->rules.empty()) list.push_back(c);
      }
      if (list.empty()) continue;
      owners.push_back(owner);
      chains.push_back(std::move(list));
    }
  };
  std::string lastRefusal;
  auto probe = [&](const std::vector<std::vector<dataplane::Rule>>& rules) -> Result<bool> {
    auto r = probeFilterRules(version, rules);
    if (!r) return r.status().error();
    if (!r->accepted) lastRefusal = r->error;
    return r->accepted;
  };
  auto probeOwners = [&](const std::vector<size_t>& subset) {
    std::vector<std::vector<dataplane::Rule>> rules;
    for (size_t i : subset) {
      for (const Chain* c : chains[i]) rules.push_back(c->rules);
    }
    return probe(rules);
  };
  suspect(true);
  auto badOwners = dataplane::findRefused(owners.size(), probeOwners);
  if (badOwners && badOwners->empty()) {
    suspect(false);
    badOwners = dataplane::findRefused(owners.size(), probeOwners);
  }
  if (!badOwners || badOwners->empty()) {
    if (!badOwners) spdlog::warn("could not probe for refused rules: {}", badOwners.message());
    return false;
  }
  bool found = false;
  for (size_t i : *badOwners) {
    const std::string& owner = owners[i];
    const Counts& counted = counts_.at(owner);
    // "pol:<tier>|<name>" or "pro:<name>" (see onPolicyActive / onProfileActive).
    const bool policy = owner.starts_with("pol:");
    std::string kind = policy ? "policy" : "profile", name = owner.substr(4), ingressChain;
    if (policy) {
      calc::PolicyId id{name.substr(0, name.find('|')), name.substr(name.find('|') + 1)};
      name = id.tier == "default" ? id.name : id.tier + "/" + id.name;
      ingressChain = rules::policyChainName(id, true);
    } else {
      ingressChain = rules::profileChainName(name, true);
    }
    for (const Chain* c : chains[i]) {
      auto bad = dataplane::findRefused(c->rules.size(), [&](const std::vector<size_t>& subset) {
        std::vector<dataplane::Rule> rules;
        for (size_t k : subset) rules.push_back(c->rules[k]);
        return probe({rules});
      });
      if (!bad) return found;
      if (bad->empty()) continue;
      Refused r{version, *c, *c, {}, {}};
      const bool ingress = c->name == ingressChain;
      static const rules::RuleCounts kNone;
      auto countsIt = counted.find(version);
      const auto& counts = countsIt == counted.end() ? kNone : countsIt->second;
      const auto& list = ingress ? counts.ingress : counts.egress;
      for (size_t k : *bad) {
        // The resource's rule index, from what each of its rules rendered to.
        size_t at = 0, index = 0;
        for (; index < list.size(); ++index) {
          at += list[index];
          if (k < at) break;
        }
        std::string refusal = firstLine(lastRefusal);
        // Fail closed: whatever reaches the rule is dropped; the rules before it still decide. A
        // LOG decides nothing: it becomes a rule that does nothing (only the log line is lost).
        const bool log = c->rules[k].action.kind == dataplane::Action::Kind::kLog;
        r.stub.rules[k] =
            dataplane::Rule{{},
                            log ? dataplane::Action::none() : dataplane::Action::drop(),
                            "brindle: rule refused by the kernel"};
        r.descriptions.push_back(
            kind + " " + name + " " + (ingress ? "ingress" : "egress") + " rule " +
            std::to_string(index) + " (IPv" + ipVersionDigit(version) + ", " + c->name + " #" +
            std::to_string(k + 1) + ": " + dataplane::renderMatch(c->rules[k].match) + " " +
            dataplane::renderAction(c->rules[k].action) + ")");
        r.labels.push_back("kind=\"" + kind + "\",name=\"" + escapeLabel(name) + "\",direction=\"" +
                           (ingress ? "ingress" : "egress") + "\",rule=\"" + std::to_string(index) +
                           "\",ip_version=\"" + ipVersionDigit(version) + "\"");
        spdlog::error(
            "the kernel refuses {}: {}; it is replaced by a DROP (the endpoints using it drop what "
            "reaches that rule) until it changes or the kernel takes it",
            r.descriptions.back(), refusal);
      }
      t->updateChain(r.stub);
      refused_[owner].push_back(std::move(r));
      found = true;
    }
  }
  if (found) {
    if (deps_.metrics) deps_.metrics->add(metric::kRefusals);
    refreshRefusedReport();
    spdlog::info("apply of IPv{} failed ({}); retrying without the refused rules",
                 ipVersionDigit(version), firstLine(error.message()));
  }
  return found;
}

void DataplaneDriver::retryRefused() {
  bool changed = false;
  for (auto it = refused_.begin(); it != refused_.end();) {
    auto& list = it->second;
    for (auto r = list.begin(); r != list.end();) {
      auto* t = table(r->version, TableName::kFilter);
      auto probed = t ? probeFilterRules(r->version, {r->real.rules})
                      : Result<dataplane::ProbeResult>(dataplane::ProbeResult{});
      if (t && probed && probed->accepted) {
        spdlog::info("the kernel now takes {}: written as it is", r->real.name);
        t->updateChain(r->real);
        r = list.erase(r);
        changed = true;
      } else {
        ++r;
      }
    }
    it = list.empty() ? refused_.erase(it) : std::next(it);
  }
  if (changed) refreshRefusedReport();
}

std::vector<std::string> DataplaneDriver::refusedRules() const {
  std::vector<std::string> out;
  for (const auto& [owner, list] : refused_) {
    for (const auto& r : list) out.insert(out.end(), r.descriptions.begin(), r.descriptions.end());
  }
  return out;
}

void DataplaneDriver::refreshRefusedReport() {
  if (!deps_.metrics) return;
  std::map<std::string, double> series;
  for (const auto& [owner, list] : refused_) {
    for (const auto& r : list) {
      for (const auto& l : r.labels) series[l] = 1;
    }
  }
  deps_.metrics->setSeries(metric::kRefusedRules, std::move(series));
}

void DataplaneDriver::updateMetrics() {
  Metrics* m = deps_.metrics;
  if (!m) return;
  int restores = 0, errors = 0, saves = 0;
  for (const auto& w : writers_) {
    restores += w->stats().restores;
    errors += w->stats().restoreErrors;
    saves += w->stats().saves;
  }
  m->add(metric::kRestoreCalls, restores - reportedRestores_);
  m->add(metric::kRestoreErrors, errors - reportedRestoreErrors_);
  m->add(metric::kSaveCalls, saves - reportedSaves_);
  reportedRestores_ = restores;
  reportedRestoreErrors_ = errors;
  reportedSaves_ = saves;
  size_t chains = 0, ruleCount = 0;
  for (const auto& [owner, list] : owned_) {
    chains += list.size();
    for (const auto& o : list) ruleCount += o.rules;
  }
  m->set(metric::kChains, static_cast<double>(chains));
  m->set(metric::kRules, static_cast<double>(ruleCount));
  if (deps_.ipsets) {
    const auto& s = deps_.ipsets->stats();
    m->add(metric::kIpsetRestoreCalls, s.restores - reportedIpsetRestores_);
    m->add(metric::kIpsetRestoreErrors, s.restoreErrors - reportedIpsetErrors_);
    reportedIpsetRestores_ = s.restores;
    reportedIpsetErrors_ = s.restoreErrors;
    m->set(metric::kIpsetMembers, static_cast<double>(deps_.ipsets->memberCount()));
  }
  if (deps_.nftables) {
    const auto& s = deps_.nftables->stats();
    m->add(metric::kNftTransactions, s.transactions - reportedNftTransactions_);
    m->add(metric::kNftErrors, s.errors - reportedNftErrors_);
    m->add(metric::kNftLists, s.lists - reportedNftLists_);
    reportedNftTransactions_ = s.transactions;
    reportedNftErrors_ = s.errors;
    reportedNftLists_ = s.lists;
    m->set(metric::kNftSets, static_cast<double>(deps_.nftables->setCount()));
    m->set(metric::kNftSetMembers, static_cast<double>(deps_.nftables->memberCount()));
  } else {
    m->set(metric::kIpsets, static_cast<double>(ipSetIds_.size() * versions().size()));
  }
  m->set(metric::kRoutes, static_cast<double>(routeMap_.size()));
  m->set(metric::kEndpoints, static_cast<double>(endpointCount()));
  m->set(metric::kPolicies, static_cast<double>(policies_.size()));
  m->set(metric::kProfiles, static_cast<double>(profiles_.size()));
}

}  // namespace brindle::agent
