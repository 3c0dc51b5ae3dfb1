// Reading the cluster, resolving FROM/TO and the packet; see cluster.h.
#include "explain/cluster.h"

#include <charconv>

#include "common/strings.h"
#include "model/bgp_views.h"
#include "model/kinds.h"
#include "model/rule.h"

namespace brindle::explain {
namespace {

std::string label(const model::Resource& r) {
  std::string name = r.ns().empty() ? r.name() : r.ns() + "/" + r.name();
  return std::string(model::kindInfo(r.kind).name) + " \"" + name + "\"";
}

std::optional<int> number(std::string_view text, int max) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 0 || v > max) return {};
  return v;
}

// An endpoint's address of `family` (4 or 6), else its first.
std::optional<IpAddr> addressOf(const Endpoint& e) {
  if (e.input.addresses.empty()) return std::nullopt;
  return e.input.addresses.front().address();
}

}  // namespace

Cluster Cluster::load(const std::vector<model::Resource>& resources) {
  Cluster c;
  auto warn = [&](const model::Resource& r, const std::string& why) {
    c.warnings.push_back(label(r) + ": " + why + " (left out, as the agent leaves it out)");
  };
  for (const auto& r : resources) {
    switch (r.kind) {
      case model::Kind::kWorkloadEndpoint:
      case model::Kind::kHostEndpoint: {
        auto in = calc::endpointInput(r);
        if (!in) {
          warn(r, in.message());
          break;
        }
        Endpoint e{std::move(*in), r.name(), {}, {}};
        for (const char* field : {"endpoint", "pod", "workload"}) {
          const std::string alias = r.spec.value(field, "");
          if (!alias.empty() && alias != e.name) e.aliases.push_back(alias);
        }
        c.endpoints.push_back(std::move(e));
        break;
      }
      case model::Kind::kGlobalNetworkPolicy:
      case model::Kind::kNetworkPolicy: {
        auto p = calc::policyInput(r);
        if (!p) {
          warn(r, p.message());
        } else {
          c.policies.push_back(std::move(*p));
        }
        break;
      }
      case model::Kind::kTier: {
        auto t = calc::tierInput(r);
        if (!t) {
          warn(r, t.message());
        } else {
          c.tiers.push_back(std::move(*t));
        }
        break;
      }
      case model::Kind::kProfile: {
        auto p = calc::profileInput(r);
        if (!p) {
          warn(r, p.message());
        } else {
          c.profiles.emplace(p->name, std::move(*p));
        }
        break;
      }
      case model::Kind::kGlobalNetworkSet:
      case model::Kind::kNetworkSet: {
        auto n = calc::networkSetInput(r);
        if (!n) {
          warn(r, n.message());
        } else {
          c.networkSets.push_back(std::move(*n));
        }
        break;
      }
      case model::Kind::kNode: {
        auto n = model::nodeBgpView(r);
        if (n && n->ipv4) c.nodeAddresses[r.name()] = n->ipv4->ip;
        break;
      }
      default:
        break;
    }
  }
  // Endpoints inherit their profiles' labelsToApply; their own labels win (as the label index).
  for (auto& e : c.endpoints) {
    e.labels = e.input.labels;
    for (const auto& name : e.input.profiles) {
      auto p = c.profiles.find(name);
      if (p == c.profiles.end()) continue;
      for (const auto& [k, v] : p->second.labelsToApply) e.labels.emplace(k, v);
    }
  }
  return c;
}

std::string Peer::text() const {
  if (host) return "host:" + node;
  if (endpoint) {
    return endpoint->input.host ? node + "/" + endpoint->name
                                : node + "/" + endpoint->name + " (" + endpoint->input.id + ")";
  }
  return ip ? ip->toString() : "?";
}

Result<Peer> resolvePeer(const Cluster& cluster, std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  if (text.starts_with("host:")) {
    Peer p;
    p.host = true;
    p.node = std::string(text.substr(5));
    auto a = cluster.nodeAddresses.find(p.node);
    if (a != cluster.nodeAddresses.end()) {
      p.ip = a->second;
    } else {
      bool known = false;
      for (const auto& e : cluster.endpoints) known = known || e.input.node == p.node;
      if (!known) return makeError(ErrorCode::kNotFound, "unknown node " + quoted);
    }
    return p;
  }
  if (auto ip = IpAddr::parse(text)) {
    Peer p;
    p.ip = *ip;
    for (const auto& e : cluster.endpoints) {
      for (const auto& a : e.input.addresses) {
        if (a.contains(*ip)) {
          p.endpoint = &e;
          p.node = e.input.node;
        }
      }
    }
    return p;
  }
  // NODE/NAME or NAMESPACE/NAME or NAME (workload name, host endpoint name or workload id).
  std::vector<const Endpoint*> found;
  const size_t slash = text.find('/');
  for (const auto& e : cluster.endpoints) {
    auto named = [&](std::string_view name) {
      if (e.name == name) return true;
      for (const auto& a : e.aliases) {
        if (a == name) return true;
      }
      return false;
    };
    bool match = false;
    if (slash == std::string_view::npos) {
      match = named(text);
    } else {
      match = (e.input.node == text.substr(0, slash) && named(text.substr(slash + 1))) ||
              (!e.input.host && e.input.id == text);
    }
    if (match) found.push_back(&e);
  }
  if (found.empty()) {
    return makeError(ErrorCode::kNotFound,
                     "unknown endpoint " + quoted +
                         " (give NODE/NAME, NAMESPACE/NAME, a unique NAME, an IP or host:NODE)");
  }
  if (found.size() > 1) {
    std::string list;
    for (const auto* e : found) {
      list += (list.empty() ? "" : ", ") + e->input.node + "/" + e->name;
      if (!e->input.host) list += " (" + e->input.id + ")";
    }
    return makeError(ErrorCode::kInvalid,
                     "ambiguous endpoint " + quoted + ": candidates are " + list);
  }
  Peer p;
  p.endpoint = found.front();
  p.node = p.endpoint->input.node;
  p.ip = addressOf(*p.endpoint);
  return p;
}

bool isIcmp(uint8_t protocol) { return protocol == 1 || protocol == 58; }

// The model's protocol names (TCP, ICMPv6, ...) as the command line spells them.
std::string protocolName(uint8_t number) { return toLower(model::Protocol{number, true}.text()); }

std::string Packet::text() const {
  std::string t = protocolName(protocol);
  if (destPort) t += "/" + std::to_string(*destPort);
  if (icmpType) t += "/" + std::to_string(*icmpType);
  if (icmpCode) t += "/" + std::to_string(*icmpCode);
  return t;
}

Result<Packet> parsePacket(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  auto bad = [&](const std::string& why) {
    return makeError(ErrorCode::kInvalid, "protocol \"" + std::string(text) + "\": " + why);
  };
  std::string name(parts[0]);
  for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  Packet p;
  if (name == "tcp") {
    p.protocol = 6;
  } else if (name == "udp") {
    p.protocol = 17;
  } else if (name == "sctp") {
    p.protocol = 132;
  } else if (name == "icmp") {
    p.protocol = 1;
  } else if (name == "icmpv6") {
    p.protocol = 58;
  } else if (auto n = number(name, 255); n && *n > 0) {
    p.protocol = static_cast<uint8_t>(*n);
  } else {
    return bad("not tcp, udp, sctp, icmp, icmpv6 or a protocol number 1-255");
  }
  if (model::Protocol{p.protocol}.supportsPorts()) {
    if (parts.size() > 2) return bad("expected PROTO/PORT");
    if (parts.size() == 2) {
      auto port = number(parts[1], 65535);
      if (!port || *port == 0)
        return bad("\"" + std::string(parts[1]) + "\" is not a port 1-65535");
      p.destPort = static_cast<uint16_t>(*port);
    }
  } else if (isIcmp(p.protocol)) {
    if (parts.size() > 3) return bad("expected icmp[/TYPE[/CODE]]");
    if (parts.size() >= 2) {
      auto t = number(parts[1], 254);
      if (!t) return bad("\"" + std::string(parts[1]) + "\" is not an ICMP type 0-254");
      p.icmpType = *t;
    }
    if (parts.size() == 3) {
      auto c = number(parts[2], 255);
      if (!c) return bad("\"" + std::string(parts[2]) + "\" is not an ICMP code 0-255");
      p.icmpCode = *c;
    }
    // A packet has a type and code: a bare icmp is a ping (echo request).
    if (!p.icmpType) p.icmpType = p.protocol == 1 ? 8 : 128;
    if (!p.icmpCode) p.icmpCode = 0;
  } else if (parts.size() > 1) {
    return bad("only tcp, udp and sctp have ports, only icmp a type and code");
  }
  return p;
}

}  // namespace brindle::explain
