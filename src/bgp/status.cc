#include "bgp/status.h"

#include <algorithm>
#include <sstream>

#include "bgp/config.h"

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

}  // namespace

std::vector<PeerStatus> parsePeers(const std::string& showProtocols) {
  std::vector<PeerStatus> out;
  std::istringstream lines(showProtocols);
  std::string line;
  while (std::getline(lines, line)) {
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
  }
  return out;
}

}  // namespace brindle::bgp
