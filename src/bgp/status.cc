#include "bgp/status.h"

#include <algorithm>
#include <sstream>

#include "bgp/config.h"
#include "os/process.h"

namespace brindle::bgp {
namespace {

// Mesh_10_0_0_2, Global_fd00__1_port_1790: the address back from confd's protocol name.
bool fromName(const std::string& name, PeerStatus& out) {
  static const std::pair<const char*, PeerType> kPrefixes[] = {
      {"Mesh_", PeerType::kMesh}, {"Global_", PeerType::kGlobal}, {"Node_", PeerType::kNode}};
  for (const auto& [prefix, type] : kPrefixes) {
    const std::string p = prefix;
    if (name.rfind(p, 0) != 0) continue;
    std::string addr = name.substr(p.size());
    if (const auto port = addr.find("_port_"); port != std::string::npos) addr.resize(port);
    // IPv4 names have exactly three separators; anything else was an IPv6 address.
    const bool v4 = std::count(addr.begin(), addr.end(), '_') == 3 &&
                    addr.find_first_not_of("0123456789_") == std::string::npos;
    for (char& ch : addr) {
      if (ch == '_') ch = v4 ? '.' : ':';
    }
    out.address = addr;
    out.type = peerTypeName(type);
    return true;
  }
  return false;
}

// "Routes:         3 imported, 1 filtered, 2 exported, 3 preferred": adds the counts to `peer`.
void addRouteCounts(const std::string& line, PeerStatus& peer) {
  std::istringstream words(line.substr(line.find(':') + 1));
  long n = 0;
  std::string what;
  while (words >> n >> what) {
    if (what.rfind("imported", 0) == 0) peer.imported += n;
    if (what.rfind("exported", 0) == 0) peer.exported += n;
  }
}

}  // namespace

std::string PeerStatus::bgpState() const {
  return info.empty() ? state : info.substr(0, info.find(' '));
}

std::vector<PeerStatus> parsePeers(const std::string& showProtocols) {
  std::vector<PeerStatus> out;
  std::istringstream lines(showProtocols);
  std::string line;
  bool ours = false;  // the protocol whose detail lines (`show protocols all`) follow is ours
  while (std::getline(lines, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      const auto text = line.find_first_not_of(" \t");
      if (ours && line.compare(text, 7, "Routes:") == 0) addRouteCounts(line, out.back());
      continue;
    }
    ours = false;
    std::istringstream fields(line);
    std::string name, proto, table;
    PeerStatus peer;
    if (!(fields >> name >> proto >> table >> peer.state >> peer.since) || proto != "BGP") {
      continue;
    }
    if (!fromName(name, peer)) continue;
    if (const auto dot = peer.since.find('.'); dot != std::string::npos) peer.since.resize(dot);
    std::getline(fields, peer.info);
    const auto begin = peer.info.find_first_not_of(' ');
    peer.info = begin == std::string::npos ? "" : peer.info.substr(begin);
    while (!peer.info.empty() && peer.info.back() == ' ') peer.info.pop_back();
    out.push_back(std::move(peer));
    ours = true;
  }
  return out;
}

Result<std::vector<PeerStatus>> readPeers(const std::string& ctl) {
  BRINDLE_ASSIGN_OR_RETURN(
      auto out,
      os::ProcessRunner().run(os::Command({"birdc", "-s", ctl, "show", "protocols", "all"})));
  if (out.exitCode != 0) {
    return makeError(ErrorCode::kUnavailable, "BIRD does not answer on " + ctl + ": " + out.out);
  }
  return parsePeers(out.out);
}

}  // namespace brindle::bgp
