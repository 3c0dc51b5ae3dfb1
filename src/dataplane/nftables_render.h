// The one place where rules (chain.h values) become nftables text, for the nftables backend
// (NftablesWriter). Everything lives in one `table inet` of ours (IPv4 and IPv6 together):
//
//   - Chains: each iptables table's chains become regular chains named "<table>-<chain>" for IPv4
//     and "<table>6-<chain>" for IPv6 ("filter-cali-fw-cali1", "filter6-cali-fw-cali1"), so the
//     same chain of both families and of several tables coexists in one nftables table.
//   - Base chains: one per hook Felix uses, named "<table>-<HOOK>" ("filter-FORWARD"), at the
//     priorities of the iptables tables (raw -300, mangle -150, nat dstnat / srcnat, filter 0),
//     hold what iptables inserts into the kernel chains; IPv4 rules carry `meta nfproto ipv4`,
//     IPv6 ones `meta nfproto ipv6` (a base chain sees both families).
//   - Dispatch: a run of two or more consecutive rules each matching only one exact interface
//     name (no wildcard, no human comment, all `iifname` or all `oifname`, no name twice) and
//     jumping or going to a chain becomes one rule looking the name up in a named verdict map:
//     `iifname vmap @filter-cali-from-wl-dispatch-map`, one hash lookup per packet instead of a
//     walk. The map is named after the chain and the run's position only ("<chain>-map", then
//     "<chain>-map1", ...), so adding or removing an endpoint changes the map's elements and
//     never the chain (the writer adds and deletes single elements). A lone such rule stays a
//     plain rule (as fast, and without a map).
//   - Grouped dispatch: a run of such rules each matching one exact interface name and then a
//     device group (`-i cali1 -m devgroup --src-group N -g cali-fw-gN`: the agent gives a
//     workload's interface the group standing for its chains, see rules/endpoints.h), where all
//     rules of one group go to the same chain, becomes one rule with a set of the run's
//     (interface, group) pairs and a verdict map by group:
//     `iifname . meta iifgroup @<map>-if meta iifgroup vmap @<map>` ("<chain>-gmap", ...). A
//     new interface of an existing group adds one pair and no verdict: the kernel then has no
//     jump graph to validate. A packet whose pair is not in the set (an interface with a stale
//     or foreign group) falls through as it would past the rules.
//   - Sets: ipsets (selector sets, "cali40s:...") become named sets (see nftSetName); port lists
//     of more than one entry become named, content-addressed port sets ("p-<hash>": the sorted,
//     merged elements' SHA-224, base64url, 12 characters) shared by every rule with the same list
//     (anonymous sets cost ~0.5 ms each to create in nft 1.0.6, quadratically more in large
//     transactions: measured, docs/nftables.md).
//   - Ids: every rule's comment starts with "cali:<hash>", the same Felix hash its iptables twin
//     carries (iptables_render.h), so `explain`, logs and a person map a rule back to its policy
//     rule the same way on both backends. A verdict-map rule carries a hash of its own text (its
//     map's name, not its elements), and the rules after it hashes chained from that one instead
//     of from the run's rules, so that no rule's id changes when the map's elements do.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/chain.h"
#include "dataplane/chain_table.h"

namespace brindle::dataplane {

// "filter-cali-fw-cali1" / "filter6-cali-fw-cali1" (see above).
std::string nftChainName(TableName table, IpVersion version, std::string_view chain);
// The base chain for iptables kernel chain `hook` ("FORWARD") of `table`: "filter-FORWARD".
std::string nftBaseChainName(TableName table, std::string_view hook);
// Its declaration body: "type filter hook forward priority filter; policy accept;" (nat:
// "type nat hook postrouting priority srcnat + 10; ..."). "" for a hook we do not know.
std::string nftBaseChainSpec(TableName table, std::string_view hook);

// The nftables set name of ipset `ipsetName` ("cali40s:Uh1L..." -> "cali40s-Uh1L..."); `interval`
// names the variant with `flags interval` (holds CIDRs): "<name>-net". Sets are plain hash sets
// while all their members are host addresses: adding an element to an interval set makes nft
// read every interval set's elements first (141 ms at 40,000 elements, 12 ms for a hash set).
std::string nftSetName(std::string_view ipsetName, bool interval);

// How a rendered rule names the sets it uses: ipset name -> nftables set name (the writer knows
// whether the set is currently an interval set).
using NftSetNamer = std::function<std::string(const std::string& ipsetName)>;

struct NftRule {
  std::string text;  // what follows "add rule inet <table> <chain> ", comment included
  std::string id;    // the hash in its "cali:" comment
};

// The rules [begin, end) of a chain that one verdict-map rule stands for.
struct NftMapRun {
  std::string map;
  size_t begin = 0, end = 0;
  bool incoming = true;  // iifname (else oifname)
  bool grouped = false;  // keyed by device group, with a pair set (see above)
};

// What one of our verdict maps or element sets is keyed by, known from its name (the renderer
// names them so): an interface name ("...-map"), a device group ("...-gmap"), or a grouped
// run's set of "<interface> . <group>" pairs ("...-gmap-if", a set: no verdicts).
enum class NftMapKind { kInterface, kGroup, kPairs };
NftMapKind nftMapKind(std::string_view name);
// The pair set of grouped run map `map`.
std::string nftPairSetName(std::string_view map);
// `add map inet <table> <name> { type ifname : verdict; }`, or `add set ...` for a pair set.
std::string nftMapDeclaration(const std::string& table, const std::string& name);
// One element as `add element` / `delete element` write it: `"cali1" : goto x`, `268435457 :
// goto x`, `"cali1" . 268435457` (a pair set's value, "", is never written); no verdict
// (deleting): the key alone.
std::string nftMapElement(NftMapKind kind, const std::string& key,
                          const std::string* verdict = nullptr);

struct NftRendered {
  std::vector<NftRule> rules;
  std::vector<NftMapRun> runs;   // in rule order
  std::set<std::string> ipsets;  // ipset names the rules refer to
  // Port set name -> its elements: "80, 8000-8080" (type inet_service; a set with a range needs
  // `flags interval`; the elements never overlap).
  std::map<std::string, std::string> portSets;
  // Verdict map name -> interface name or group -> verdict ("goto filter-cali-fw-cali1"), and
  // pair set name -> pair ("cali1 . 268435457") -> "" (see NftMapKind).
  std::map<std::string, std::map<std::string, std::string>> maps;
};

// The rules of one chain of `table`/`version`, with their `hashes` (ruleHashes(), same order).
// `mapPrefix` names the chain's verdict maps ("<mapPrefix>-map"): its nftables name, or for a
// base chain the one its family's rules would have (nftChainName(table, version, hook)), so each
// family gets maps of its own. `baseChain`: the rules go into a base chain and carry the family
// guard (`meta nfproto ipv4`). Dispatch runs are collapsed into verdict maps (see above).
NftRendered renderNftRules(TableName table, IpVersion version, std::string_view mapPrefix,
                           const std::vector<Rule>& rules, const std::vector<std::string>& hashes,
                           const NftSetNamer& setName, bool baseChain = false);

// A map's elements after some edits: interface -> its verdict, or nullopt (no element).
using NftElementChanges = std::map<std::string, std::optional<std::string>>;

// Replays `edits` (ChainTable::ruleEdits()) of a chain that rendered into `runs`: when they only
// insert and remove dispatchable rules inside the runs and every run stays one map, with the same
// neighbours, the chain's rules render to the same text and ids as before and only elements
// change. Then `runs` (indices) are updated, `changes` gets map -> its changed elements and the
// result is true; false means render the chain again. `maps`: every map's elements before the
// edits; `rules`: the chain after them. O(edits x log elements).
bool replayNftMapEdits(TableName table, IpVersion version, const std::vector<Rule>& rules,
                       const std::vector<RuleEdit>& edits, std::vector<NftMapRun>& runs,
                       const std::map<std::string, std::map<std::string, std::string>>& maps,
                       std::map<std::string, NftElementChanges>& changes);

// Just the match or action text of one rule ("meta l4proto 6 th dport 80", "accept"): for logs
// and refusal reports. Port lists render inline here ("th dport { 80, 443 }").
std::string renderNftMatch(const Match& match, IpVersion version, const NftSetNamer& setName);
std::string renderNftAction(const Action& action, TableName table, IpVersion version);

}  // namespace brindle::dataplane
