// FakeIptables: a simulator of iptables-save/iptables-restore (and one-shot iptables commands)
// for both IP versions, with --noflush transactions, reference checks and failure injection.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dataplane/chain.h"
#include "dataplane/testing/call_history.h"
#include "os/process.h"

namespace brindle::dataplane::testing {

class FakeIptables : public os::CommandRunner, public CallHistory {
 public:
  FakeIptables();

  // Handles iptables-save, iptables-restore, iptables and their ip6tables twins; any other
  // program exits 127.
  Result<os::CommandOutput> run(const os::Command& command) override;

  // Failure injection: the next restore (or save) exits 1 without changing anything.
  void failNextRestore(int count = 1) { failRestores_ = count; }
  void failNextSave(int count = 1) { failSaves_ = count; }
  // Failure injection by content: the kernel refuses every rule whose text contains `text` (in
  // any chain; "" refuses none), as a kernel without the module a match needs would.
  void refuseRulesContaining(std::string text) { refusedText_ = std::move(text); }
  // When set, `-m set --match-set NAME` must name an existing set (rules before their sets fail).
  void setIpsetExists(std::function<bool(const std::string&)> exists) {
    ipsetExists_ = std::move(exists);
  }

  // Inspection: rules are stored as save prints them (without "-A CHAIN ").
  bool hasChain(IpVersion v, const std::string& table, const std::string& chain) const;
  std::vector<std::string> chainNames(IpVersion v, const std::string& table) const;
  std::vector<std::string> rules(IpVersion v, const std::string& table,
                                 const std::string& chain) const;
  std::string save(IpVersion v, const std::string& table) const;
  // True if any rule of either version uses the set (ipset destroy must then fail).
  bool setReferenced(const std::string& set) const;

 private:
  struct ChainState {
    std::string policy;  // "-" for user chains
    std::vector<std::string> rules;
  };
  struct TableState {
    std::vector<std::string> order;  // chain names, builtins first, then in creation order
    std::map<std::string, ChainState> chains;
  };
  using Tables = std::map<std::string, TableState>;

  Tables& tables(IpVersion v) { return v == IpVersion::kV6 ? v6_ : v4_; }
  const Tables& tables(IpVersion v) const { return v == IpVersion::kV6 ? v6_ : v4_; }
  // Applies a restore text to `state`; an error message names the failing line.
  std::string restore(Tables& state, const std::string& input, bool noflush);
  std::string applyLine(TableState& table, std::vector<std::string> tokens);
  std::string checkRule(const TableState& table, const std::vector<std::string>& spec) const;

  Tables v4_, v6_;
  int failRestores_ = 0, failSaves_ = 0;
  std::string refusedText_;
  std::function<bool(const std::string&)> ipsetExists_;
};

// Splits an iptables command line into tokens, honouring double quotes.
std::vector<std::string> splitIptablesLine(const std::string& line);
// Joins tokens back, quoting comment texts and tokens with spaces the way iptables-save does.
std::string joinIptablesTokens(const std::vector<std::string>& tokens, size_t from);

}  // namespace brindle::dataplane::testing
