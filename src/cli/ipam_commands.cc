// brindlectl ipam: the IPAM library seen as calicoctl shows it (boxed usage table, IP details,
// consistency check against the endpoints in the store).
#include "cli/ipam_commands.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "ipam/block.h"
#include "ipam/ipam.h"
#include "model/kinds.h"

namespace brindle::cli {
namespace {

using model::Kind;

int fail(Session& s, const std::string& message) {
  s.err() << message << "\n";
  return 1;
}

std::string fmtG(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.5g", v);
  return buf;
}

// calicoctl's "N (P%)" cell.
std::string withPercent(double n, double capacity) {
  char buf[32];
  std::snprintf(buf, sizeof buf, " (%.f%%)", capacity > 0 ? 100 * n / capacity : 0.0);
  return fmtG(n) + buf;
}

// A table boxed as calicoctl's (go-pretty default style), numeric columns right-aligned.
void printBoxed(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows,
                const std::vector<bool>& rightAligned) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  std::string rule = "+";
  for (size_t w : width) rule += std::string(w + 2, '-') + "+";
  auto line = [&](const std::vector<std::string>& r, bool isHeader) {
    std::string s = "|";
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < r.size() ? r[i] : "";
      const std::string pad(width[i] - cell.size(), ' ');
      const bool right = !isHeader && i < rightAligned.size() && rightAligned[i];
      s += " " + (right ? pad + cell : cell + pad) + " |";
    }
    out << s << "\n";
  };
  out << rule << "\n";
  line(header, true);
  out << rule << "\n";
  for (const auto& r : rows) line(r, false);
  out << rule << "\n";
}

Result<ipam::IpamPtr> openIpam(Session& s) {
  auto client = s.client();
  if (!client) return client.error();
  return ipam::makeIpam(**client);
}

int showIp(Session& s, ipam::Ipam& ipam, const std::string& text) {
  auto ip = IpAddr::parse(text);
  if (!ip) return fail(s, "Invalid IP address specified: " + text);
  auto a = ipam.getAllocation(*ip);
  if (!a) {
    if (a.code() != ErrorCode::kNotFound) return fail(s, a.message());
    s.out() << ip->toString() << " is not assigned\n";
    return 0;
  }
  s.out() << "IP " << ip->toString() << " is in use\n";
  s.out() << "Handle ID: " << (a->handle.empty() ? "<none>" : a->handle) << "\n";
  if (a->attributes.empty()) {
    s.out() << "No Active Owner attributes defined\n";
  } else {
    s.out() << "Active Owner Attributes:\n";
    for (const auto& [k, v] : a->attributes) s.out() << "  " << k << ": " << v << "\n";
  }
  s.out() << "Block: " << a->block << "\n";
  return 0;
}

// Every address an endpoint or node in the store says it uses, with who uses it.
struct InUse {
  std::map<IpAddr, std::vector<std::string>> owners;
  int workloadIps = 0;
  int nodeIps = 0;
};

void addAddress(InUse& u, const std::string& text, const std::string& owner) {
  auto c = Cidr::parse(text, true);
  if (!c) return;
  u.owners[c->address()].push_back(owner);
}

Result<InUse> loadInUse(resources::ResourceStore& store, std::set<std::string>& nodes) {
  InUse u;
  auto weps = store.list(Kind::kWorkloadEndpoint);
  if (!weps) return weps.error();
  for (const auto& w : *weps) {
    auto it = w.spec.find("ipNetworks");
    if (it == w.spec.end() || !it->is_array()) continue;
    for (const auto& n : *it) {
      if (!n.is_string()) continue;
      addAddress(u, n.get<std::string>(), "WorkloadEndpoint(" + w.ns() + "/" + w.name() + ")");
      ++u.workloadIps;
    }
  }
  auto heps = store.list(Kind::kHostEndpoint);
  if (!heps) return heps.error();
  for (const auto& h : *heps) {
    auto it = h.spec.find("expectedIPs");
    if (it == h.spec.end() || !it->is_array()) continue;
    for (const auto& n : *it) {
      if (n.is_string()) addAddress(u, n.get<std::string>(), "HostEndpoint(" + h.name() + ")");
    }
  }
  auto nodeList = store.list(Kind::kNode);
  if (!nodeList) return nodeList.error();
  for (const auto& n : *nodeList) {
    nodes.insert(n.name());
    const std::string owner = "Node(" + n.name() + ")";
    auto tunnel = [&](const model::Json& obj, const char* field) {
      if (obj.is_object() && obj.contains(field) && obj[field].is_string()) {
        addAddress(u, obj[field].get<std::string>(), owner);
        ++u.nodeIps;
      }
    };
    if (n.spec.contains("bgp")) tunnel(n.spec["bgp"], "ipv4IPIPTunnelAddr");
    tunnel(n.spec, "ipv4VXLANTunnelAddr");
    tunnel(n.spec, "ipv6VXLANTunnelAddr");
    if (n.spec.contains("wireguard")) {
      tunnel(n.spec["wireguard"], "interfaceIPv4Address");
      tunnel(n.spec["wireguard"], "interfaceIPv6Address");
    }
  }
  return u;
}

std::string attrString(const std::map<std::string, std::string>& attrs) {
  std::string s = "map[";
  bool first = true;
  for (const auto& [k, v] : attrs) {
    s += (first ? "" : " ") + k + ":" + v;
    first = false;
  }
  return s + "]";
}

bool confirm(Session& s, const std::string& question) {
  s.out() << question << " [y/N] " << std::flush;
  std::string answer;
  std::getline(s.in(), answer);
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "Yes";
}

class IpamCommandsImpl final : public IpamCommands {
 public:
  explicit IpamCommandsImpl(CLI::App& app) {
    ipam_ = app.add_subcommand("ipam", "IP address management");
    ipam_->require_subcommand(1);
    show_ = ipam_->add_subcommand("show", "Show IP pool and block usage, or one address");
    show_->add_option("--ip", showCmd_.ip, "Show whether this address is in use, and by whom");
    show_->add_flag("--show-blocks", showCmd_.showBlocks, "Show the blocks within each pool");
    show_->add_flag("--show-configuration", showCmd_.showConfiguration,
                    "Show the IPAM configuration");
    release_ = ipam_->add_subcommand("release", "Release an IP address from IPAM");
    release_->add_option("--ip", releaseIp_, "The address to release")->required();
    check_ = ipam_->add_subcommand("check", "Check IPAM for leaks and inconsistencies");
    check_->add_flag("--fix", checkCmd_.fix, "Release what the check finds (asks first)");
    check_->add_flag("--yes", checkCmd_.yes, "With --fix: do not ask");
    configure_ = ipam_->add_subcommand("configure", "Configure IPAM");
    configure_->add_option("--strictaffinity", strict_, "true or false")->required();
  }

  bool parsed() const override { return ipam_->parsed(); }

  int run(Session& session) override {
    if (show_->parsed()) return runIpamShow(session, showCmd_);
    if (release_->parsed()) return runIpamRelease(session, releaseIp_);
    if (check_->parsed()) return runIpamCheck(session, checkCmd_);
    if (configure_->parsed()) return runIpamConfigure(session, strict_);
    return fail(session, "No ipam command given. Run 'brindlectl ipam --help' for usage.");
  }

 private:
  CLI::App* ipam_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* release_ = nullptr;
  CLI::App* check_ = nullptr;
  CLI::App* configure_ = nullptr;
  IpamShowCommand showCmd_;
  std::string releaseIp_;
  IpamCheckCommand checkCmd_;
  std::string strict_;
};

}  // namespace

std::unique_ptr<IpamCommands> addIpamCommands(CLI::App& app) {
  return std::make_unique<IpamCommandsImpl>(app);
}

int runIpamShow(Session& s, const IpamShowCommand& cmd) {
  auto ipam = openIpam(s);
  if (!ipam) return fail(s, ipam.message());
  if (!cmd.ip.empty()) return showIp(s, **ipam, cmd.ip);
  if (cmd.showConfiguration) {
    auto client = s.client();
    if (!client) return fail(s, client.message());
    ipam::IpamConfig cfg;
    auto kv = (*client)->get(ipam::kConfigKey);
    if (kv) {
      auto d = ipam::IpamConfig::decode(kv->value);
      if (!d) return fail(s, "error: " + d.message());
      cfg = *d;
    } else if (kv.code() != ErrorCode::kNotFound) {
      return fail(s, "error: " + kv.message());
    }
    auto text = [](bool b) { return std::string(b ? "true" : "false"); };
    printBoxed(s.out(), {"PROPERTY", "VALUE"},
               {{"StrictAffinity", text(cfg.strictAffinity)},
                {"AutoAllocateBlocks", text(cfg.autoAllocateBlocks)}},
               {false, false});
    return 0;
  }
  auto usage = (*ipam)->usage();
  if (!usage) return fail(s, usage.message());
  // calicoctl v3's columns; --show-blocks adds the blocks' affinity as a last column.
  std::vector<std::string> header = {"GROUPING",   "CIDR",         "IPS TOTAL",
                                     "IPS IN USE", "IPS RESERVED", "IPS FREE"};
  if (cmd.showBlocks) header.push_back("AFFINITY");
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : *usage) {
    const double cap = std::ldexp(1.0, p.hostBits);
    // Past 2^63 only the rounded figure matters (the counters saturate).
    const double free = p.hostBits > 63 ? cap - static_cast<double>(p.inUse + p.reserved)
                                        : static_cast<double>(p.available);
    rows.push_back({"IP Pool", p.cidr.toString(), fmtG(cap),
                    withPercent(static_cast<double>(p.inUse), cap),
                    withPercent(static_cast<double>(p.reserved), cap), withPercent(free, cap)});
    if (cmd.showBlocks) {
      rows.back().push_back("");
      for (const auto& b : p.blocks) {
        rows.push_back({"Block", b.cidr.toString(), fmtG(b.total), withPercent(b.inUse, b.total),
                        withPercent(b.reserved, b.total), withPercent(b.available, b.total),
                        b.affinity.empty() ? "<none>" : b.affinity});
      }
    }
  }
  printBoxed(s.out(), header, rows, {false, false, true, true, true, true, false});
  return 0;
}

int runIpamRelease(Session& s, const std::string& text) {
  auto ip = IpAddr::parse(text);
  if (!ip) return fail(s, "Invalid IP address specified: " + text);
  auto ipam = openIpam(s);
  if (!ipam) return fail(s, ipam.message());
  auto r = (*ipam)->releaseIps({*ip});
  if (!r) return fail(s, r.message());
  if (!r->empty()) return fail(s, "IP address " + ip->toString() + " is not assigned");
  s.out() << "Successfully released IP address " << ip->toString() << "\n";
  return 0;
}

int runIpamConfigure(Session& s, const std::string& value) {
  if (value != "true" && value != "false") {
    return fail(s, "invalid value. Use true or false to set strictaffinity");
  }
  auto ipam = openIpam(s);
  if (!ipam) return fail(s, ipam.message());
  if (Status st = (*ipam)->setStrictAffinity(value == "true"); !st) {
    return fail(s, "error: " + st.message());
  }
  s.out() << "Successfully set StrictAffinity to: " << value << "\n";
  return 0;
}

int runIpamCheck(Session& s, const IpamCheckCommand& cmd) {
  auto store = s.store();
  if (!store) return fail(s, store.message());
  auto client = s.client();
  if (!client) return fail(s, client.message());
  auto ipam = ipam::makeIpam(**client);
  std::ostream& out = s.out();
  out << "Checking IPAM for inconsistencies...\n\n";

  out << "Loading all IPAM blocks...\n";
  auto blockKvs = (*client)->list(ipam::kBlockPrefix);
  if (!blockKvs) return fail(s, blockKvs.message());
  std::vector<ipam::Block> blocks;
  std::map<std::string, std::map<std::string, int>> blockCountsByHandle;  // handle -> block -> n
  int numAllocs = 0, invalidBlocks = 0;
  for (const auto& kv : blockKvs->items) {
    auto b = ipam::Block::decode(kv.value);
    if (!b) {
      out << "  IPAMBlock " << kv.key << " is invalid: " << b.message() << "\n";
      ++invalidBlocks;
      continue;
    }
    out << " IPAM block " << b->cidr().toString()
        << " affinity=" << b->affinity().value_or("<none>") << ":\n";
    numAllocs += b->inUse();
    for (const auto& [h, n] : b->countsByHandle()) {
      if (!h.empty()) blockCountsByHandle[h][b->cidr().toString()] += n;
    }
    blocks.push_back(std::move(*b));
  }
  out << "Found " << blocks.size() << " IPAM blocks.\n";
  out << "IPAM blocks record " << numAllocs << " allocations.\n\n";

  out << "Loading all IP pools...\n";
  auto pools = (*store)->list(Kind::kIPPool);
  if (!pools) return fail(s, pools.message());
  std::vector<Cidr> activePools;
  for (const auto& p : *pools) {
    auto c = Cidr::parse(p.spec.value("cidr", ""), false);
    if (!c || p.spec.value("disabled", false)) continue;
    out << "  " << c->toString() << "\n";
    activePools.push_back(*c);
  }
  out << "Found " << activePools.size() << " active IP pools.\n\n";

  out << "Loading all nodes and workload endpoints.\n";
  std::set<std::string> nodes;
  auto inUse = loadInUse(**store, nodes);
  if (!inUse) return fail(s, inUse.message());
  out << "Found " << inUse->nodeIps << " node tunnel IPs.\n";
  out << "Found " << inUse->workloadIps << " workload IPs.\n";
  out << "Workloads and nodes are using " << inUse->owners.size() << " IPs.\n\n";

  auto allocations = ipam->listAllocations();
  if (!allocations) return fail(s, allocations.message());
  std::set<IpAddr> allocated;
  std::vector<IpAddr> leaked;
  out << "Scanning for IPs that are allocated but not actually in use...\n";
  for (const auto& a : *allocations) {
    allocated.insert(a.ip);
    if (inUse->owners.count(a.ip)) continue;
    out << "  " << a.ip.toString() << " leaked; handle " << (a.handle.empty() ? "<none>" : a.handle)
        << "; attrs " << attrString(a.attributes) << "\n";
    leaked.push_back(a.ip);
  }
  out << "Found " << leaked.size() << " IPs that are allocated in IPAM but not actually in use.\n";

  out << "Scanning for IPs that are in use by a workload or node but not allocated in IPAM...\n";
  int notAllocated = 0, notInPool = 0;
  for (const auto& [ip, owners] : inUse->owners) {
    if (owners.size() > 1) out << "  " << ip.toString() << " has multiple owners.\n";
    if (allocated.count(ip)) continue;
    const bool inPool = std::any_of(activePools.begin(), activePools.end(),
                                    [&](const Cidr& c) { return c.contains(ip); });
    std::string who;
    for (const auto& o : owners) who += (who.empty() ? "" : ", ") + o;
    if (!inPool) {
      ++notInPool;
      continue;  // addresses outside the pools are not IPAM's (calicoctl lists them too)
    }
    out << "  " << ip.toString() << " in use by " << who
        << " and in active IPAM pool but has no IPAM allocation.\n";
    ++notAllocated;
  }
  out << "Found " << notInPool << " in-use IPs that are not in active IP pools.\n";
  out << "Found " << notAllocated
      << " in-use IPs that are in active IP pools but have no corresponding IPAM allocation.\n\n";

  out << "Scanning for IPAM handles with no matching IPs...\n";
  auto handleKvs = (*client)->list(ipam::kHandlePrefix);
  if (!handleKvs) return fail(s, handleKvs.message());
  std::vector<datastore::KVPair> emptyHandles;
  int mismatched = 0;
  std::set<std::string> handleNames;
  for (const auto& kv : handleKvs->items) {
    const std::string name = kv.key.substr(std::string(ipam::kHandlePrefix).size());
    handleNames.insert(name);
    auto it = blockCountsByHandle.find(name);
    if (it == blockCountsByHandle.end()) {
      out << "  " << name << " doesn't have any active IPs.\n";
      emptyHandles.push_back(kv);
      continue;
    }
    auto h = ipam::Handle::decode(kv.value);
    if (h && h->blocks != it->second) {
      out << "  " << name << " records " << h->total()
          << " addresses but the blocks hold a different set.\n";
      ++mismatched;
    }
  }
  out << "Found " << emptyHandles.size() << " handles with no matching IPs (and "
      << handleKvs->items.size() - emptyHandles.size() << " handles with matches).\n";
  out << "Scanning for IPs with missing handle...\n";
  int missingHandles = 0;
  for (const auto& [name, _] : blockCountsByHandle) {
    if (handleNames.count(name)) continue;
    out << "  " << name << " is in use in a block but doesn't exist.\n";
    ++missingHandles;
  }
  out << "Found " << missingHandles
      << " handles mentioned in blocks with no matching handle resource.\n\n";

  out << "Scanning for blocks affine to nodes that no longer exist...\n";
  std::set<std::string> goneNodes;
  if (nodes.empty()) {
    out << "  No Node resources in the datastore: block affinities not checked.\n";
  } else {
    for (const auto& b : blocks) {
      const std::string aff = b.affinity().value_or("");
      if (aff.rfind("host:", 0) != 0 || nodes.count(aff.substr(5))) continue;
      out << "  Block " << b.cidr().toString() << " is affine to node " << aff.substr(5)
          << ", which does not exist.\n";
      goneNodes.insert(aff.substr(5));
    }
  }
  out << "Found " << goneNodes.size() << " missing nodes holding blocks.\n\n";

  const size_t problems = leaked.size() + notAllocated + emptyHandles.size() + mismatched +
                          missingHandles + invalidBlocks + goneNodes.size();
  out << "Check complete; found " << problems << " problems.\n";
  if (!cmd.fix) return 0;

  const size_t fixable = leaked.size() + emptyHandles.size() + goneNodes.size();
  if (fixable == 0) {
    out << "Nothing to fix.\n";
    return 0;
  }
  out << "Note: an address allocated by a CNI ADD still in progress looks leaked until its "
         "endpoint is written.\n";
  const std::string question = "Release " + std::to_string(leaked.size()) + " leaked IPs, delete " +
                               std::to_string(emptyHandles.size()) +
                               " handles without IPs and release the blocks of " +
                               std::to_string(goneNodes.size()) + " missing nodes?";
  if (!cmd.yes && !confirm(s, question)) {
    out << "Nothing changed.\n";
    return 1;
  }
  if (!leaked.empty()) {
    out << "Releasing " << leaked.size() << " old IPs...\n";
    auto r = ipam->releaseIps(leaked);
    if (!r) return fail(s, "An error occurred while releasing some IPs: " + r.message());
    out << "Released " << leaked.size() - r->size() << " IPs successfully\n";
    if (!r->empty()) out << r->size() << " addresses had already been cleaned up.\n";
  }
  if (!emptyHandles.empty()) {
    int deleted = 0, skipped = 0;
    for (const auto& kv : emptyHandles) {
      // Guarded by the revision the check read: a handle that gained an address is left alone.
      Status st = (*client)->remove(kv.key, kv.modRevision);
      if (st) {
        ++deleted;
      } else if (st.code() == ErrorCode::kConflict || st.code() == ErrorCode::kNotFound) {
        ++skipped;
      } else {
        return fail(s, "Deleting handle " + kv.key + " failed: " + st.message());
      }
    }
    out << "Released " << deleted << " handles; " << skipped << " skipped; 0 errors.\n";
  }
  for (const auto& node : goneNodes) {
    auto r = ipam->releaseHostAffinities(node);
    if (!r) return fail(s, "Releasing the blocks of node " + node + " failed: " + r.message());
    out << "Released " << r->size() << " blocks of node " << node << ".\n";
  }
  return 0;
}

}  // namespace brindle::cli
