// RuleScanner: turns the rules of active policies and profiles into ParsedRules, replacing each
// selector (with its namespace scope, Calico style) and each multi-CIDR list by an ipset id, and
// reference-counts those ipsets so a set lives exactly as long as a rule uses it.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "calc/types.h"
#include "common/result.h"
#include "model/rule.h"
#include "selector/selector.h"

namespace brindle::calc {

class RuleScannerListener {
 public:
  virtual ~RuleScannerListener() = default;
  // A selector ipset ("s:...") is needed / a static CIDR ipset ("n:...") is needed.
  virtual void onSelectorIpSetActive(const std::string& id, const selector::Selector& sel) = 0;
  virtual void onNetIpSetActive(const std::string& id, const std::vector<Cidr>& nets) = 0;
  virtual void onIpSetInactive(const std::string& id) = 0;
  // Rules of an active policy/profile (again whenever they change); gone when inactive. The
  // rules are shared, never copied: one value per policy from parsing to the sequencer.
  virtual void onPolicyRules(const PolicyId& id, std::shared_ptr<const ParsedRules> rules) = 0;
  virtual void onPolicyRulesGone(const PolicyId& id) = 0;
  virtual void onProfileRules(const std::string& name,
                              std::shared_ptr<const ParsedRules> rules) = 0;
  virtual void onProfileRulesGone(const std::string& name) = 0;
};

// One rule as the scanner sees it: the ipsets it needs (id -> source) and its parsed form.
struct ScannedRules {
  ParsedRules rules;
  std::map<std::string, selector::Selector> selectorSets;
  std::map<std::string, std::vector<Cidr>> netSets;
};
using ScannedRulesPtr = std::shared_ptr<const ScannedRules>;

// Pure: parses `ingress`/`egress` of a policy in namespace `ns` ("" for global) or a profile.
// Rules that need what Brindle cannot yet match (named ports, service accounts, services, HTTP)
// are dropped unless they deny (then only the supported part is kept: denying more is safe).
ScannedRules scanRules(const std::vector<model::Rule>& ingress,
                       const std::vector<model::Rule>& egress, const std::string& ns);

// Scans rule lists straight from their JSON, remembering each distinct rule (its JSON and
// namespace): policies repeat rules, and parsing and hashing a rule again costs more than
// finding it. Bounded (forgets everything past kMaxEntries distinct rules).
class RuleCache {
 public:
  // Appends to `out`/`sets` what scanRules() makes of spec[field] ("ingress"/"egress", absent =
  // none); on a rule that does not parse, the error policyInput() reports.
  Status scan(const model::Json& spec, const char* field, const std::string& ns,
              std::vector<ParsedRule>& out, ScannedRules& sets);

 private:
  static constexpr size_t kMaxEntries = 4096;
  struct Entry {
    model::Json json;
    std::string ns;
    bool kept;  // false: the rule is dropped (see scanRules)
    ParsedRule rule;
    ScannedRules sets;  // its selector and net sets
  };
  std::unordered_map<size_t, std::vector<Entry>> entries_;  // by hash of JSON and namespace
  size_t size_ = 0;
};

// The ipset id of a selector: uniqueId("s", canonical text).
std::string selectorIpSetId(const selector::Selector& sel);

class RuleScanner {
 public:
  explicit RuleScanner(RuleScannerListener& out) : out_(out) {}

  // `rules`: scanRules() of the policy/profile, computed once when it was read.
  void updatePolicy(const PolicyId& id, const ScannedRulesPtr& rules);
  void removePolicy(const PolicyId& id);
  void updateProfile(const std::string& name, const ScannedRulesPtr& rules);
  void removeProfile(const std::string& name);

 private:
  // Adds `next`'s sets, then drops `prev`'s, so a set used before and after never flaps.
  void swapSets(const ScannedRules* prev, const ScannedRules* next);

  RuleScannerListener& out_;
  std::map<PolicyId, ScannedRulesPtr> policies_;
  std::map<std::string, ScannedRulesPtr> profiles_;
  std::map<std::string, int> refs_;
};

}  // namespace brindle::calc
