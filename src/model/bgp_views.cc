#include "model/bgp_views.h"

#include "model/felix_config.h"

#include <charconv>
#include <map>
#include <set>
#include <tuple>

namespace brindle::model {
namespace {

Error invalid(const std::string& what, const std::string& why) {
  return makeError(ErrorCode::kInvalid, what + ": " + why);
}

std::string text(const Json& obj, const char* field) {
  const auto it = obj.find(field);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::optional<HostAddress>> hostAddress(const Json& bgp, const char* field, int family) {
  const std::string value = text(bgp, field);
  if (value.empty()) return std::optional<HostAddress>();
  const auto slash = value.find('/');
  auto ip = IpAddr::parse(value.substr(0, slash));
  if (!ip || ip->isV4() != (family == 4)) return invalid(std::string("bgp.") + field, value);
  HostAddress out{*ip, ip->bits()};
  if (slash != std::string::npos) {
    auto cidr = Cidr::parse(value);
    if (!cidr) return invalid(std::string("bgp.") + field, value);
    out.prefixLength = cidr->prefixLength();
  }
  return std::optional<HostAddress>(out);
}

std::optional<SecretRef> secretRef(const Json& spec, const char* field) {
  const auto it = spec.find(field);
  if (it == spec.end() || !it->is_object()) return std::nullopt;
  const auto ref = it->find("secretKeyRef");
  if (ref == it->end() || !ref->is_object()) return std::nullopt;
  return SecretRef{text(*ref, "name"), text(*ref, "key")};
}

Result<std::optional<int>> duration(const Json& spec, const char* field) {
  const std::string value = text(spec, field);
  if (value.empty()) return std::optional<int>();
  auto d = parseDuration(value);
  if (!d) return invalid(field, d.message());
  return std::optional<int>(static_cast<int>(d->count() / 1000));
}

Result<std::optional<uint32_t>> asNumber(const Json& obj) {
  const auto it = obj.find("asNumber");
  if (it == obj.end() || it->is_null()) return std::optional<uint32_t>();
  BRINDLE_ASSIGN_OR_RETURN(auto as, parseAsNumber(*it));
  return std::optional<uint32_t>(as);
}

// BGPConfiguration's [{cidr: ...}] lists.
Result<std::vector<Cidr>> serviceCidrs(const Json& spec, const char* list) {
  std::vector<Cidr> out;
  const auto it = spec.find(list);
  if (it == spec.end() || !it->is_array()) return out;
  for (const Json& item : *it) {
    auto cidr = Cidr::parse(text(item, "cidr"));
    if (!cidr) return invalid(list, cidr.message());
    out.push_back(*cidr);
  }
  return out;
}

// "10.0.0.1", "10.0.0.1:179", "[fd00::1]:179" or a bare IPv6 address.
Status splitPeerIp(const std::string& value, BgpPeerView& out) {
  std::string host = value;
  std::string port;
  if (!value.empty() && value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string::npos) return invalid("peerIP", value);
    host = value.substr(1, close - 1);
    if (close + 1 < value.size()) {
      if (value[close + 1] != ':') return invalid("peerIP", value);
      port = value.substr(close + 2);
    }
  } else if (const auto colon = value.find(':');
             colon != std::string::npos && value.find(':', colon + 1) == std::string::npos) {
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
  }
  auto ip = IpAddr::parse(host);
  if (!ip) return invalid("peerIP", value);
  out.peerIp = *ip;
  if (!port.empty()) {
    int n = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || end != port.data() + port.size() || n < 1 || n > 65535) {
      return invalid("peerIP", "port of " + value);
    }
    out.port = n;
  }
  return Status::ok();
}

Result<std::vector<BgpFilterRule>> filterRules(const Json& spec, const char* list, int family) {
  std::vector<BgpFilterRule> out;
  const auto it = spec.find(list);
  if (it == spec.end() || !it->is_array()) return out;
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& item = (*it)[i];
    const std::string where = std::string(list) + "[" + std::to_string(i) + "]";
    BgpFilterRule rule;
    const std::string action = text(item, "action");
    if (action != "Accept" && action != "Reject") return invalid(where + ".action", action);
    rule.accept = action == "Accept";
    rule.cidr = text(item, "cidr");
    rule.matchOperator = text(item, "matchOperator");
    if (!rule.cidr.empty()) {
      auto cidr = Cidr::parse(rule.cidr);
      if (!cidr || cidr->isV4() != (family == 4)) return invalid(where + ".cidr", rule.cidr);
      if (rule.matchOperator != "Equal" && rule.matchOperator != "NotEqual" &&
          rule.matchOperator != "In" && rule.matchOperator != "NotIn") {
        return invalid(where + ".matchOperator", rule.matchOperator);
      }
    }
    if (const auto len = item.find("prefixLength"); len != item.end() && len->is_object()) {
      if (const auto min = len->find("min"); min != len->end() && min->is_number_integer()) {
        rule.prefixMin = min->get<int>();
      }
      if (const auto max = len->find("max"); max != len->end() && max->is_number_integer()) {
        rule.prefixMax = max->get<int>();
      }
    }
    const std::string source = text(item, "source");
    if (!source.empty() && source != "RemotePeers") return invalid(where + ".source", source);
    rule.remotePeers = source == "RemotePeers";
    rule.interface = text(item, "interface");
    // BIRD strings have no escapes.
    if (rule.interface.find_first_of("\"\n\\") != std::string::npos) {
      return invalid(where + ".interface", rule.interface);
    }
    out.push_back(std::move(rule));
  }
  return out;
}

// "a:b" or "a:b:c", each part a number.
bool isCommunityValue(const std::string& value) {
  int parts = 0;
  size_t start = 0;
  while (true) {
    const size_t colon = value.find(':', start);
    const std::string part = value.substr(start, colon - start);
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) return false;
    ++parts;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return parts == 2 || parts == 3;
}

Result<std::vector<PrefixAdvertisement>> prefixAdvertisements(const Json& spec,
                                                              const Json& adverts) {
  std::map<std::string, std::string> defined;  // communities: name -> value
  if (const auto it = spec.find("communities"); it != spec.end() && it->is_array()) {
    for (const Json& c : *it) defined[text(c, "name")] = text(c, "value");
  }
  std::vector<PrefixAdvertisement> out;
  for (size_t i = 0; i < adverts.size(); ++i) {
    const std::string where = "prefixAdvertisements[" + std::to_string(i) + "]";
    PrefixAdvertisement advert;
    advert.cidr = text(adverts[i], "cidr");
    if (!Cidr::parse(advert.cidr)) return invalid(where + ".cidr", advert.cidr);
    std::set<std::string> values;
    const Json names = adverts[i].value("communities", Json::array());
    for (size_t j = 0; j < names.size(); ++j) {
      const std::string name = names[j].is_string() ? names[j].get<std::string>() : names[j].dump();
      const auto it = defined.find(name);
      const std::string value = isCommunityValue(name) ? name
                                : it != defined.end()  ? it->second
                                                       : "";
      if (!isCommunityValue(value)) {
        return invalid(where + ".communities[" + std::to_string(j) + "]",
                       name + " is neither a community value nor defined in communities");
      }
      values.insert(value);
    }
    advert.communities.assign(values.begin(), values.end());
    if (!advert.communities.empty()) out.push_back(std::move(advert));
  }
  return out;
}

}  // namespace

Result<uint32_t> parseAsNumber(const Json& value) {
  if (value.is_number_integer() && value.get<int64_t>() >= 0 &&
      value.get<int64_t>() <= UINT32_MAX) {
    return static_cast<uint32_t>(value.get<int64_t>());
  }
  if (!value.is_string()) return invalid("asNumber", value.dump());
  const std::string s = value.get<std::string>();
  uint64_t high = 0;
  uint64_t low = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, low);
  if (ec == std::errc() && p != end && *p == '.') {
    high = low;
    const auto second = std::from_chars(p + 1, end, low);
    p = second.ptr;
    ec = second.ec;
    if (high > 65535 || low > 65535) ec = std::errc::result_out_of_range;
  }
  const uint64_t as = high << 16 | low;
  if (ec != std::errc() || p != end || s.empty() || as > UINT32_MAX) {
    return invalid("asNumber", s);
  }
  return static_cast<uint32_t>(as);
}

Result<NodeBgpView> nodeBgpView(const Resource& node) {
  NodeBgpView view;
  view.name = node.name();
  view.labels = node.labels();
  const auto bgpIt = node.spec.find("bgp");
  if (bgpIt == node.spec.end() || !bgpIt->is_object()) return view;
  const Json& bgp = *bgpIt;
  BRINDLE_ASSIGN_OR_RETURN(auto v4, hostAddress(bgp, "ipv4Address", 4));
  BRINDLE_ASSIGN_OR_RETURN(auto v6, hostAddress(bgp, "ipv6Address", 6));
  BRINDLE_ASSIGN_OR_RETURN(auto as, asNumber(bgp));
  view.ipv4 = v4;
  view.ipv6 = v6;
  view.asNumber = as;
  view.rrClusterId = text(bgp, "routeReflectorClusterID");
  if (auto tunnel = IpAddr::parse(text(bgp, "ipv4IPIPTunnelAddr"))) view.ipipTunnelAddr = *tunnel;
  return view;
}

Result<BgpPeerView> bgpPeerView(const Resource& peer) {
  const Json& spec = peer.spec;
  BgpPeerView view;
  view.name = peer.name();
  view.node = text(spec, "node");
  view.nodeSelector = text(spec, "nodeSelector");
  view.peerSelector = text(spec, "peerSelector");
  if (const std::string ip = text(spec, "peerIP"); !ip.empty()) {
    if (Status s = splitPeerIp(ip, view); !s.isOk()) return s.error();
  }
  BRINDLE_ASSIGN_OR_RETURN(view.asNumber, asNumber(spec));
  view.password = secretRef(spec, "password");
  BRINDLE_ASSIGN_OR_RETURN(view.keepaliveSeconds, duration(spec, "keepaliveTime"));
  BRINDLE_ASSIGN_OR_RETURN(view.maxRestartSeconds, duration(spec, "maxRestartTime"));
  view.longLivedRestart = text(spec, "restartMode") == "LongLivedGracefulRestart";
  view.useNodeIp = text(spec, "sourceAddress") != "None";
  view.bfd = text(spec, "failureDetectionMode") == "BFDIfDirectlyConnected";
  view.ttlSecurity = spec.value("ttlSecurity", 0);
  view.keepOriginalNextHop = spec.value("keepOriginalNextHop", false);
  view.nextHopMode = text(spec, "nextHopMode");
  view.reversePeeringManual = text(spec, "reversePeering") == "Manual";
  view.numAllowedLocalAs = spec.value("numAllowedLocalASNumbers", 0);
  if (const auto filters = spec.find("filters"); filters != spec.end() && filters->is_array()) {
    for (const Json& f : *filters) {
      if (f.is_string()) view.filters.push_back(f.get<std::string>());
    }
  }
  if (const auto local = spec.find("localASNumber"); local != spec.end() && !local->is_null()) {
    auto as = parseAsNumber(*local);
    if (!as) return invalid("localASNumber", as.message());
    view.localAsNumber = *as;
  }
  if (const std::string via = text(spec, "reachableBy"); !via.empty()) {
    auto ip = IpAddr::parse(via);
    if (!ip) return invalid("reachableBy", via);
    view.reachableBy = *ip;
  }
  return view;
}

Result<BgpConfigView> bgpConfigView(const Resource& config) {
  const Json& spec = config.spec;
  BgpConfigView view;
  view.meshEnabled = spec.value("nodeToNodeMeshEnabled", true);
  BRINDLE_ASSIGN_OR_RETURN(view.asNumber, asNumber(spec));
  if (const auto port = spec.find("listenPort"); port != spec.end() && port->is_number()) {
    view.listenPort = port->get<int>();
  }
  if (const std::string level = text(spec, "logSeverityScreen"); !level.empty()) {
    view.logSeverityScreen = level;
  }
  view.nodeMeshPassword = secretRef(spec, "nodeMeshPassword");
  BRINDLE_ASSIGN_OR_RETURN(view.nodeMeshMaxRestartSeconds,
                           duration(spec, "nodeMeshMaxRestartTime"));
  for (auto [list, out] : {std::pair{"serviceClusterIPs", &view.serviceClusterIps},
                           std::pair{"serviceExternalIPs", &view.serviceExternalIps},
                           std::pair{"serviceLoadBalancerIPs", &view.serviceLoadBalancerIps}}) {
    BRINDLE_ASSIGN_OR_RETURN(auto cidrs, serviceCidrs(spec, list));
    *out = std::move(cidrs);
  }
  if (const auto adverts = spec.find("prefixAdvertisements"); adverts != spec.end()) {
    BRINDLE_ASSIGN_OR_RETURN(view.prefixAdvertisements, prefixAdvertisements(spec, *adverts));
  }
  view.bindNodeIp = text(spec, "bindMode") == "NodeIP";
  if (const auto ignored = spec.find("ignoredInterfaces"); ignored != spec.end()) {
    for (const Json& name : *ignored) {
      if (!name.is_string() ||
          name.get<std::string>().find_first_of("\"\n\\") != std::string::npos) {
        return invalid("ignoredInterfaces", name.dump());
      }
      view.ignoredInterfaces.push_back(name.get<std::string>());
    }
  }
  return view;
}

Result<BgpFilterView> bgpFilterView(const Resource& filter) {
  BgpFilterView view;
  view.name = filter.name();
  for (auto [list, family, out] :
       {std::tuple{"importV4", 4, &view.importV4}, std::tuple{"exportV4", 4, &view.exportV4},
        std::tuple{"importV6", 6, &view.importV6}, std::tuple{"exportV6", 6, &view.exportV6}}) {
    BRINDLE_ASSIGN_OR_RETURN(auto rules, filterRules(filter.spec, list, family));
    *out = std::move(rules);
  }
  return view;
}

}  // namespace brindle::model
