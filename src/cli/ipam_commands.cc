// brindlectl ipam: the IPAM library seen as calicoctl shows it (boxed usage table, IP details,
// consistency check against the endpoints in the store).
#include "cli/ipam_commands.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cli/table.h"
#include "ipam/block.h"
#include "ipam/check.h"
#include "ipam/ipam.h"

namespace brindle::cli {
namespace {

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

Result<ipam::IpamPtr> openIpam(Session& s) {
  BRINDLE_ASSIGN_OR_RETURN(auto client, s.client());
  return ipam::makeIpam(*client);
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

std::string attrString(const std::map<std::string, std::string>& attrs) {
  std::string s = "map[";
  bool first = true;
  for (const auto& [k, v] : attrs) {
    s += (first ? "" : " ") + k + ":" + v;
    first = false;
  }
  return s + "]";
}

// The report as calicoctl prints its check, section by section.
void printCheckReport(std::ostream& out, const ipam::CheckReport& r) {
  out << "Loading all IPAM blocks...\n";
  for (const auto& b : r.blocks) {
    if (!b.block) {
      out << "  IPAMBlock " << b.key << " is invalid: " << b.error << "\n";
      continue;
    }
    out << " IPAM block " << b.block->cidr().toString()
        << " affinity=" << b.block->affinity().value_or("<none>") << ":\n";
  }
  out << "Found " << r.blocks.size() - r.invalidBlocks << " IPAM blocks.\n";
  out << "IPAM blocks record " << r.allocations << " allocations.\n\n";

  out << "Loading all IP pools...\n";
  for (const auto& c : r.activePools) out << "  " << c.toString() << "\n";
  out << "Found " << r.activePools.size() << " active IP pools.\n\n";

  out << "Loading all nodes and workload endpoints.\n";
  out << "Found " << r.nodeIps << " node tunnel IPs.\n";
  out << "Found " << r.workloadIps << " workload IPs.\n";
  out << "Workloads and nodes are using " << r.inUse.size() << " IPs.\n\n";

  out << "Scanning for IPs that are allocated but not actually in use...\n";
  for (const auto& a : r.leaked) {
    out << "  " << a.ip.toString() << " leaked; handle " << (a.handle.empty() ? "<none>" : a.handle)
        << "; attrs " << attrString(a.attributes) << "\n";
  }
  out << "Found " << r.leaked.size()
      << " IPs that are allocated in IPAM but not actually in use.\n";

  out << "Scanning for IPs that are in use by a workload or node but not allocated in IPAM...\n";
  for (const auto& u : r.inUse) {
    if (u.owners.size() > 1) out << "  " << u.ip.toString() << " has multiple owners.\n";
    if (u.allocated || !u.inActivePool) continue;
    std::string who;
    for (const auto& o : u.owners) who += (who.empty() ? "" : ", ") + o;
    out << "  " << u.ip.toString() << " in use by " << who
        << " and in active IPAM pool but has no IPAM allocation.\n";
  }
  out << "Found " << r.outsidePools << " in-use IPs that are not in active IP pools.\n";
  out << "Found " << r.unallocated
      << " in-use IPs that are in active IP pools but have no corresponding IPAM allocation.\n\n";

  out << "Scanning for IPAM handles with no matching IPs...\n";
  for (const auto& h : r.handleProblems) {
    if (h.empty) {
      out << "  " << h.name << " doesn't have any active IPs.\n";
    } else {
      out << "  " << h.name << " records " << h.recorded
          << " addresses but the blocks hold a different set.\n";
    }
  }
  out << "Found " << r.emptyHandles << " handles with no matching IPs (and "
      << r.handles - r.emptyHandles << " handles with matches).\n";
  out << "Scanning for IPs with missing handle...\n";
  for (const auto& name : r.missingHandles) {
    out << "  " << name << " is in use in a block but doesn't exist.\n";
  }
  out << "Found " << r.missingHandles.size()
      << " handles mentioned in blocks with no matching handle resource.\n\n";

  out << "Scanning for blocks affine to nodes that no longer exist...\n";
  if (!r.nodesListed)
    out << "  No Node resources in the datastore: block affinities not checked.\n";
  for (const auto& b : r.blocksOfMissingNodes) {
    out << "  Block " << b.block.toString() << " is affine to node " << b.node
        << ", which does not exist.\n";
  }
  out << "Found " << r.missingNodes.size() << " missing nodes holding blocks.\n\n";
  out << "Check complete; found " << r.problems() << " problems.\n";
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
    auto cfg = ipam::IpamConfig::read(**client);
    if (!cfg) return fail(s, "error: " + cfg.message());
    auto text = [](bool b) { return std::string(b ? "true" : "false"); };
    printBoxed(s.out(), {"PROPERTY", "VALUE"},
               {{"StrictAffinity", text(cfg->strictAffinity)},
                {"AutoAllocateBlocks", text(cfg->autoAllocateBlocks)}},
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
  auto client = s.client();
  if (!client) return fail(s, client.message());
  std::ostream& out = s.out();
  out << "Checking IPAM for inconsistencies...\n\n";
  auto report = ipam::checkConsistency(**client);
  if (!report) return fail(s, report.message());
  printCheckReport(out, *report);
  if (!cmd.fix) return 0;

  if (report->fixable() == 0) {
    out << "Nothing to fix.\n";
    return 0;
  }
  out << "Note: an address allocated by a CNI ADD still in progress looks leaked until its "
         "endpoint is written.\n";
  const std::string question = "Release " + std::to_string(report->leaked.size()) +
                               " leaked IPs, delete " + std::to_string(report->emptyHandles) +
                               " handles without IPs and release the blocks of " +
                               std::to_string(report->missingNodes.size()) + " missing nodes?";
  if (!cmd.yes && !confirm(s, question)) {
    out << "Nothing changed.\n";
    return 1;
  }
  auto fixed = ipam::repair(**client, *report);
  if (!fixed) return fail(s, fixed.message());
  if (!report->leaked.empty()) {
    out << "Releasing " << report->leaked.size() << " old IPs...\n";
    out << "Released " << fixed->released << " IPs successfully\n";
    if (fixed->alreadyFree > 0)
      out << fixed->alreadyFree << " addresses had already been cleaned up.\n";
  }
  if (report->emptyHandles > 0) {
    out << "Released " << fixed->handlesDeleted << " handles; " << fixed->handlesSkipped
        << " skipped; 0 errors.\n";
  }
  for (const auto& [node, n] : fixed->nodeBlocksReleased) {
    out << "Released " << n << " blocks of node " << node << ".\n";
  }
  return 0;
}

}  // namespace brindle::cli
