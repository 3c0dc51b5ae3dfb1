// RouteTable's apply: one link dump and one route dump per call, then group sets and route
// replace/delete by diff.
#include "dataplane/route_table.h"

namespace brindle::dataplane {

RouteTable::RouteTable(RouteNetlink& netlink, os::SysctlWriter& sysctl, RouteTableOptions options)
    : netlink_(netlink), sysctl_(sysctl), options_(options) {}

void RouteTable::setWorkloadRoute(const Cidr& dest, const std::string& interface) {
  desired_[dest] = Target{false, interface, std::nullopt};
}

void RouteTable::removeWorkloadRoute(const Cidr& dest) {
  auto it = desired_.find(dest);
  if (it != desired_.end() && !it->second.blackhole && !it->second.via) desired_.erase(it);
}

void RouteTable::setBlackholeRoute(const Cidr& block) {
  desired_[block] = Target{true, "", std::nullopt};
}

void RouteTable::setTunnelRoute(const Cidr& dest, const std::string& interface, const IpAddr& via) {
  desired_[dest] = Target{false, interface, via};
}

void RouteTable::removeTunnelRoute(const Cidr& dest) {
  auto it = desired_.find(dest);
  if (it != desired_.end() && it->second.via) desired_.erase(it);
}

void RouteTable::removeBlackholeRoute(const Cidr& block) {
  auto it = desired_.find(block);
  if (it != desired_.end() && it->second.blackhole) desired_.erase(it);
}

void RouteTable::setInterfaceGroup(const std::string& interface, uint32_t group) {
  groups_[interface] = group;
}

void RouteTable::removeInterfaceGroup(const std::string& interface) { groups_.erase(interface); }

std::vector<Cidr> RouteTable::pendingRoutes() const {
  return std::vector<Cidr>(pending_.begin(), pending_.end());
}

std::vector<std::string> RouteTable::pendingInterfaceGroups() const {
  return std::vector<std::string>(pendingGroups_.begin(), pendingGroups_.end());
}

std::vector<os::SysctlSetting> RouteTable::interfaceSysctls(const std::string& interface) const {
  // The workload's gateway 169.254.1.1 exists nowhere: the node answers ARP for it (proxy_arp)
  // at once (proxy_delay 0) and forwards what the workload sends.
  std::vector<os::SysctlSetting> out = {
      {"net/ipv4/conf/" + interface + "/proxy_arp", "1", false},
      {"net/ipv4/neigh/" + interface + "/proxy_delay", "0", false},
      {"net/ipv4/conf/" + interface + "/forwarding", "1", false},
  };
  if (options_.ipv6) out.push_back({"net/ipv6/conf/" + interface + "/forwarding", "1", true});
  return out;
}

Status RouteTable::apply() {
  BRINDLE_ASSIGN_OR_RETURN(auto links, netlink_.listLinks());
  std::map<std::string, int> indexOf;
  for (const auto& link : links) indexOf[link.name] = link.index;

  Status first;
  auto note = [&first](Status st) {
    if (!st.isOk() && first.isOk()) first = st;
  };

  // Interfaces: configure each workload interface once per ifindex (a recreated veth gets a new
  // index and is configured again); forget interfaces that went away.
  std::set<std::string> wantedInterfaces;
  for (const auto& [dest, target] : desired_) {
    if (!target.blackhole && !target.via) wantedInterfaces.insert(target.interface);
  }
  for (auto it = configured_.begin(); it != configured_.end();) {
    auto link = indexOf.find(it->first);
    bool gone =
        link == indexOf.end() || link->second != it->second || !wantedInterfaces.count(it->first);
    it = gone ? configured_.erase(it) : std::next(it);
  }
  for (const auto& interface : wantedInterfaces) {
    auto link = indexOf.find(interface);
    if (link == indexOf.end() || configured_.count(interface)) continue;
    Status st = sysctl_.write(interfaceSysctls(interface));
    note(st);
    if (st.isOk()) {
      configured_[interface] = link->second;
      ++stats_.interfacesConfigured;
    }
  }

  note(applyGroups(links));

  auto routes = netlink_.listRoutes(options_.table);
  if (!routes) return routes.status();
  std::map<Cidr, RouteEntry> ours;
  std::map<Cidr, RouteEntry> any;  // routes with the same destination, whoever owns them
  for (const auto& route : *routes) {
    if (route.protocol == options_.protocol) ours[route.dest] = route;
    any.emplace(route.dest, route);
  }

  pending_.clear();
  for (const auto& [dest, target] : desired_) {
    RouteEntry want;
    want.dest = dest;
    want.blackhole = target.blackhole;
    want.protocol = options_.protocol;
    want.table = options_.table;
    if (!target.blackhole) {
      auto link = indexOf.find(target.interface);
      if (link == indexOf.end()) {
        pending_.insert(dest);
        continue;
      }
      want.ifindex = link->second;
      want.gateway = target.via;
    }
    auto have = ours.find(dest);
    if (have != ours.end() && have->second == want) continue;
    Status st = netlink_.replaceRoute(want);
    note(st);
    if (st.isOk()) ++stats_.replaced;
    // A route to a vanished interface would be taken out by the kernel: retry on next apply.
    if (!st.isOk() && st.code() == ErrorCode::kNotFound) pending_.insert(dest);
  }

  // Sweep: routes carrying our protocol that nobody wants (pending ones included: their old
  // interface is gone or changed).
  for (const auto& [dest, route] : ours) {
    auto want = desired_.find(dest);
    if (want != desired_.end() && !pending_.count(dest)) continue;
    Status st = netlink_.deleteRoute(route);
    note(st);
    if (st.isOk()) ++stats_.deleted;
  }
  return first;
}

Status RouteTable::applyGroupsOfUngroupedLinks(std::map<std::string, uint32_t>& carried) {
  BRINDLE_ASSIGN_OR_RETURN(auto links, netlink_.listLinks());
  Status first;
  for (const auto& link : links) {
    auto want = groups_.find(link.name);
    if (want == groups_.end() || want->second == link.group) continue;
    if (inWorkloadGroupRange(link.group)) {
      carried[link.name] = link.group;
      continue;
    }
    Status st = netlink_.setLinkGroup(link.index, want->second);
    if (st.isOk()) {
      ++stats_.groupsSet;
    } else if (st.code() != ErrorCode::kNotFound && first.isOk()) {
      first = st;  // a link gone since the dump is apply()'s to wait for
    }
  }
  return first;
}

Status RouteTable::applyGroups(const std::vector<LinkInfo>& links) {
  Status first;
  pendingGroups_.clear();
  for (const auto& [interface, group] : groups_) pendingGroups_.insert(interface);
  for (const auto& link : links) {
    auto want = groups_.find(link.name);
    bool wanted = want != groups_.end();
    if (wanted) pendingGroups_.erase(link.name);
    // Not ours to reset (or not yet: the sweep is off).
    if (!wanted && !(inWorkloadGroupRange(link.group) && options_.sweepLinkGroups)) continue;
    uint32_t group = wanted ? want->second : 0;
    if (link.group == group) continue;
    Status st = netlink_.setLinkGroup(link.index, group);
    if (st.isOk()) {
      ++stats_.groupsSet;
      continue;
    }
    // Gone since the dump: a wanted group waits for the link to return; a swept one went with it.
    if (st.code() == ErrorCode::kNotFound) {
      if (!wanted) continue;
      pendingGroups_.insert(link.name);
    }
    if (first.isOk()) first = st;
  }
  return first;
}

}  // namespace brindle::dataplane
