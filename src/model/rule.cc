// Parsing, checking and comparing Calico v3 rules (see rule.h).
#include "model/rule.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>

#include "common/strings.h"
#include "model/names.h"

namespace brindle::model {
namespace {

struct NamedProtocol {
  std::string_view name;
  uint8_t number;
};
constexpr std::array<NamedProtocol, 6> kProtocols = {{
    {"TCP", 6},
    {"UDP", 17},
    {"ICMP", 1},
    {"ICMPv6", 58},
    {"SCTP", 132},
    {"UDPLite", 136},
}};

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses a decimal number in [lo, hi]; nullopt if not a plain number or out of range.
std::optional<long long> parseBounded(std::string_view s, long long lo, long long hi) {
  if (!allDigits(s) || s.size() > 12) return std::nullopt;
  long long v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

// Kubernetes' IsValidPortName: up to 15 of [a-z0-9-], at least one letter, no leading,
// trailing or doubled '-'.
bool isValidPortName(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  if (s.front() == '-' || s.back() == '-' || s.find("--") != std::string_view::npos) return false;
  bool letter = false;
  for (char c : s) {
    if (c >= 'a' && c <= 'z') {
      letter = true;
    } else if (!(c >= '0' && c <= '9') && c != '-') {
      return false;
    }
  }
  return letter;
}

Status checkKnownFields(const Json& obj, const std::string& path,
                        std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return invalid(path.empty() ? key : path + "." + key, "unknown field");
    }
  }
  return Status::ok();
}

Status parsePorts(const Json& json, const std::string& path, PortSet& out) {
  if (!json.is_array()) return invalid(path, "expected a list of ports, got " + quoteJson(json));
  for (size_t i = 0; i < json.size(); ++i) {
    const Json& v = json[i];
    const std::string p = indexed(path, i);
    const Error bad = invalid(p, quoteJson(v) + " is not a port or port range");
    if (v.is_number()) {
      auto n = jsonInt(v, 1, 65535);
      if (!n) return bad;
      out.ranges.push_back({static_cast<uint16_t>(*n), static_cast<uint16_t>(*n)});
      continue;
    }
    if (!v.is_string()) return bad;
    const std::string s = v.get<std::string>();
    if (allDigits(s)) {
      auto n = parseBounded(s, 1, 65535);
      if (!n) return bad;
      out.ranges.push_back({static_cast<uint16_t>(*n), static_cast<uint16_t>(*n)});
    } else if (auto colon = s.find(':'); colon != std::string::npos) {
      auto a = parseBounded(std::string_view(s).substr(0, colon), 1, 65535);
      auto b = parseBounded(std::string_view(s).substr(colon + 1), 1, 65535);
      if (!a || !b) return bad;
      if (*a > *b) {
        return invalid(p, quoteJson(v) + " is not a port or port range: " + std::to_string(*a) +
                              " is greater than " + std::to_string(*b));
      }
      out.ranges.push_back({static_cast<uint16_t>(*a), static_cast<uint16_t>(*b)});
    } else if (isValidPortName(s)) {
      out.names.push_back(s);
    } else {
      return bad;
    }
  }
  return Status::ok();
}

Result<IcmpMatch> parseIcmp(const Json& json, const std::string& path) {
  if (!json.is_object()) return invalid(path, "expected an object, got " + quoteJson(json));
  if (auto st = checkKnownFields(json, path, {"type", "code"}); !st) return st;
  IcmpMatch m;
  if (auto it = json.find("type"); it != json.end()) {
    auto t = jsonInt(*it, 0, 254);
    if (!t) return invalid(join(path, "type"), quoteJson(*it) + " is not an ICMP type (0-254)");
    m.type = static_cast<int>(*t);
  }
  if (auto it = json.find("code"); it != json.end()) {
    auto c = jsonInt(*it, 0, 255);
    if (!c) return invalid(join(path, "code"), quoteJson(*it) + " is not an ICMP code (0-255)");
    if (!m.type) return invalid(join(path, "code"), "an ICMP code needs an ICMP type");
    m.code = static_cast<int>(*c);
  }
  return m;
}

Status parseNets(const Json& json, const std::string& path, std::vector<Cidr>& out) {
  if (!json.is_array()) return invalid(path, "expected a list of CIDRs, got " + quoteJson(json));
  for (size_t i = 0; i < json.size(); ++i) {
    const Json& v = json[i];
    const std::string p = indexed(path, i);
    if (!v.is_string()) return invalid(p, quoteJson(v) + " is not a CIDR");
    const std::string s = v.get<std::string>();
    auto cidr = Cidr::parse(s, /*allowBareIp=*/true);
    if (!cidr) return invalid(p, quoteJson(v) + " is not a CIDR");
    if (Status masked = checkMasked(v, *cidr, p); !masked) return masked;
    out.push_back(*cidr);
  }
  return Status::ok();
}

Result<EntityRule> parseEntity(const Json& json, const std::string& path) {
  if (!json.is_object()) return invalid(path, "expected an object, got " + quoteJson(json));
  if (auto st = checkKnownFields(json, path,
                                 {"nets", "notNets", "selector", "notSelector", "namespaceSelector",
                                  "serviceAccounts", "services", "ports", "notPorts"});
      !st) {
    return st.error();
  }
  EntityRule e;
  for (const auto& [key, value] : json.items()) {
    const std::string p = join(path, key);
    if (key == "nets") {
      if (auto st = parseNets(value, p, e.nets); !st) return st.error();
    } else if (key == "notNets") {
      if (auto st = parseNets(value, p, e.notNets); !st) return st.error();
    } else if (key == "selector" || key == "notSelector" || key == "namespaceSelector") {
      BRINDLE_ASSIGN_OR_RETURN(auto sel, parseSelectorAt(value, p));
      // Calico: global() is only for namespaceSelector, and then on its own.
      const bool global = sel.canonical().find("global()") != std::string::npos;
      if (global && key != "namespaceSelector") {
        return invalid(p, "global() can only be used in a namespaceSelector");
      }
      if (global && sel.canonical() != "global()") {
        return invalid(p, "global() cannot be combined with other selectors");
      }
      if (key == "selector") e.selector = sel;
      if (key == "notSelector") e.notSelector = sel;
      if (key == "namespaceSelector") e.namespaceSelector = sel;
    } else if (key == "ports") {
      if (auto st = parsePorts(value, p, e.ports); !st) return st.error();
    } else if (key == "notPorts") {
      if (auto st = parsePorts(value, p, e.notPorts); !st) return st.error();
    } else if (key == "serviceAccounts") {
      if (!value.is_object()) return invalid(p, "expected an object, got " + quoteJson(value));
      if (auto st = checkKnownFields(value, p, {"names", "selector"}); !st) return st.error();
      ServiceAccountMatch sa;
      if (auto it = value.find("names"); it != value.end()) {
        if (!it->is_array()) return invalid(join(p, "names"), "expected a list of names");
        for (size_t i = 0; i < it->size(); ++i) {
          if (!(*it)[i].is_string() || (*it)[i].get<std::string>().empty()) {
            return invalid(indexed(join(p, "names"), i),
                           quoteJson((*it)[i]) + " is not a service account name");
          }
          sa.names.push_back((*it)[i].get<std::string>());
        }
      }
      if (auto it = value.find("selector"); it != value.end()) {
        BRINDLE_ASSIGN_OR_RETURN(sa.selector, parseSelectorAt(*it, join(p, "selector")));
      }
      e.serviceAccounts = std::move(sa);
    } else if (key == "services") {
      if (!value.is_object()) return invalid(p, "expected an object, got " + quoteJson(value));
      if (auto st = checkKnownFields(value, p, {"name", "namespace"}); !st) return st.error();
      ServiceMatch svc;
      svc.name = value.value("name", "");
      svc.ns = value.value("namespace", "");
      if (svc.name.empty()) return invalid(join(p, "name"), "a service name is required");
      e.services = std::move(svc);
    }
  }
  if (e.services) {
    // Service rules take their addresses and ports from the service's endpoints.
    if (e.namespaceSelector || e.selector || e.notSelector || e.serviceAccounts ||
        !e.nets.empty() || !e.notNets.empty()) {
      return invalid(join(path, "services"),
                     "cannot be combined with selectors, namespaceSelector, serviceAccounts or "
                     "nets");
    }
  }
  return e;
}

// Calico's HTTP match: methods without repeats; each path exactly one of exact or prefix, starting
// with '/' and without '?', '#' or spaces (RFC 3986 path characters).
Status checkHttp(const Json& http, const std::string& path) {
  if (!http.is_object()) return invalid(path, "expected an object, got " + quoteJson(http));
  if (auto st = checkKnownFields(http, path, {"methods", "paths"}); !st) return st;
  if (auto it = http.find("methods"); it != http.end()) {
    if (!it->is_array()) return invalid(join(path, "methods"), "expected a list of methods");
    std::set<std::string> seen;
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& m = (*it)[i];
      const std::string p = indexed(join(path, "methods"), i);
      if (!m.is_string()) return invalid(p, quoteJson(m) + " is not an HTTP method");
      if (!seen.insert(m.get<std::string>()).second) {
        return invalid(p, quoteJson(m) + " is listed more than once");
      }
    }
  }
  if (auto it = http.find("paths"); it != http.end()) {
    if (!it->is_array()) return invalid(join(path, "paths"), "expected a list of paths");
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& m = (*it)[i];
      const std::string p = indexed(join(path, "paths"), i);
      if (!m.is_object()) return invalid(p, "expected {exact: PATH} or {prefix: PATH}");
      if (auto st = checkKnownFields(m, p, {"exact", "prefix"}); !st) return st;
      if (m.size() != 1) {
        return invalid(p, "set exactly one of exact or prefix, e.g. {prefix: /api}");
      }
      const auto item = m.items().begin();
      const std::string field = item.key();
      const Json& v = item.value();
      if (!v.is_string() || !v.get<std::string>().starts_with('/') ||
          v.get<std::string>().find_first_of("? #") != std::string::npos) {
        return invalid(join(p, field), quoteJson(v) +
                                           " is not an HTTP path (starts with '/', no '?', '#' "
                                           "or spaces)");
      }
    }
  }
  return Status::ok();
}

std::string protocolTextOrNone(const std::optional<Protocol>& p) {
  return p ? "protocol is \"" + p->text() + "\"" : "no protocol is set";
}

Status checkPortsAllowed(const Rule& r, const EntityRule& e, const std::string& path) {
  if (r.protocol && r.protocol->supportsPorts()) return Status::ok();
  const char* what = "ports need protocol TCP, UDP or SCTP (";
  // Calico: with no protocol, named ports are fine (each names its own protocol on the endpoint).
  if (!r.protocol && e.ports.ranges.empty() && e.notPorts.ranges.empty()) return Status::ok();
  if (!e.ports.empty())
    return invalid(join(path, "ports"), what + protocolTextOrNone(r.protocol) + ")");
  if (!e.notPorts.empty()) {
    return invalid(join(path, "notPorts"), what + protocolTextOrNone(r.protocol) + ")");
  }
  return Status::ok();
}

Status checkNetFamilies(const Rule& r, const std::string& path) {
  std::optional<bool> seenV4;  // family of the first net seen in the rule
  struct Group {
    const std::vector<Cidr>* nets;
    std::string field;
  };
  const std::array<Group, 4> groups = {{{&r.source.nets, "source.nets"},
                                        {&r.source.notNets, "source.notNets"},
                                        {&r.destination.nets, "destination.nets"},
                                        {&r.destination.notNets, "destination.notNets"}}};
  for (const auto& g : groups) {
    for (size_t i = 0; i < g.nets->size(); ++i) {
      const Cidr& c = (*g.nets)[i];
      const std::string p = indexed(join(path, g.field), i);
      if (r.ipVersion && (*r.ipVersion == 4) != c.isV4()) {
        return invalid(p, "\"" + c.toString() + "\" is " + (c.isV4() ? "IPv4" : "IPv6") +
                              " but ipVersion is " + std::to_string(*r.ipVersion));
      }
      if (!seenV4) seenV4 = c.isV4();
      if (*seenV4 != c.isV4()) {
        return invalid(p, "\"" + c.toString() + "\": a rule cannot mix IPv4 and IPv6 CIDRs");
      }
    }
  }
  return Status::ok();
}

// Union coverage: is [r.first, r.last] inside the union of `ranges`?
bool rangeCovered(PortRange r, const std::vector<PortRange>& ranges) {
  uint32_t next = r.first;  // the lowest port not yet shown to be covered
  bool progress = true;
  while (next <= r.last && progress) {
    progress = false;
    for (const auto& c : ranges) {
      if (c.first <= next && c.last >= next) {
        next = static_cast<uint32_t>(c.last) + 1;
        progress = true;
      }
    }
  }
  return next > r.last;
}

bool rangesDisjoint(PortRange a, PortRange b) { return a.last < b.first || b.last < a.first; }

bool sameOptional(const std::optional<selector::Selector>& earlier,
                  const std::optional<selector::Selector>& later) {
  return !earlier || (later && *earlier == *later);
}

// Every packet `later` lets through for this side also passes `earlier`'s checks.
bool entityCovers(const EntityRule& earlier, const EntityRule& later) {
  if (!earlier.nets.empty()) {
    if (later.nets.empty()) return false;
    for (const auto& n : later.nets) {
      if (std::none_of(earlier.nets.begin(), earlier.nets.end(),
                       [&](const Cidr& e) { return e.isV4() == n.isV4() && e.contains(n); })) {
        return false;
      }
    }
  }
  for (const auto& excluded : earlier.notNets) {
    const bool alsoExcluded = std::any_of(
        later.notNets.begin(), later.notNets.end(),
        [&](const Cidr& l) { return l.isV4() == excluded.isV4() && l.contains(excluded); });
    const bool neverInside = !later.nets.empty() &&
                             std::none_of(later.nets.begin(), later.nets.end(), [&](const Cidr& l) {
                               return l.isV4() == excluded.isV4() && l.overlaps(excluded);
                             });
    if (!alsoExcluded && !neverInside) return false;
  }
  if (!sameOptional(earlier.selector, later.selector)) return false;
  if (!sameOptional(earlier.notSelector, later.notSelector)) return false;
  if (!sameOptional(earlier.namespaceSelector, later.namespaceSelector)) return false;
  if (earlier.serviceAccounts && earlier.serviceAccounts != later.serviceAccounts) return false;
  if (earlier.services && earlier.services != later.services) return false;
  if (!earlier.ports.empty()) {
    if (later.ports.empty() || !earlier.ports.covers(later.ports)) return false;
  }
  if (!earlier.notPorts.empty()) {
    // Each port the earlier rule excludes must be excluded by the later rule too, or lie
    // outside every (numeric) port the later rule accepts.
    for (const auto& name : earlier.notPorts.names) {
      if (std::find(later.notPorts.names.begin(), later.notPorts.names.end(), name) ==
          later.notPorts.names.end()) {
        return false;
      }
    }
    for (const auto& ex : earlier.notPorts.ranges) {
      if (rangeCovered(ex, later.notPorts.ranges)) continue;
      const bool outside = !later.ports.ranges.empty() && later.ports.names.empty() &&
                           std::all_of(later.ports.ranges.begin(), later.ports.ranges.end(),
                                       [&](PortRange l) { return rangesDisjoint(l, ex); });
      if (!outside) return false;
    }
  }
  return true;
}

bool icmpCovers(const std::optional<IcmpMatch>& earlier, const std::optional<IcmpMatch>& later) {
  if (!earlier) return true;
  if (!later || earlier->type != later->type) return false;
  return !earlier->code || earlier->code == later->code;
}

}  // namespace

std::string join(const std::string& path, std::string_view field) {
  return path.empty() ? std::string(field) : path + "." + std::string(field);
}

std::string indexed(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

Error invalid(const std::string& path, const std::string& what) {
  return makeError(ErrorCode::kInvalid, path + ": " + what);
}

Status checkMasked(const Json& value, const Cidr& cidr, const std::string& path) {
  const std::string& text = value.get_ref<const std::string&>();
  auto addr = IpAddr::parse(std::string_view(text).substr(0, text.find('/')));
  if (!addr || *addr == cidr.address()) return Status::ok();
  return invalid(
      path, quoteJson(value) + " has host bits set (did you mean \"" + cidr.toString() + "\"?)");
}

std::optional<long long> jsonInt(const Json& v, long long lo, long long hi) {
  if (v.is_number_unsigned()) {
    auto u = v.get<unsigned long long>();
    if (u > static_cast<unsigned long long>(hi)) return std::nullopt;
    long long x = static_cast<long long>(u);
    return x < lo ? std::nullopt : std::optional<long long>(x);
  }
  if (v.is_number_integer()) {
    long long x = v.get<long long>();
    return (x < lo || x > hi) ? std::nullopt : std::optional<long long>(x);
  }
  return std::nullopt;
}

std::string quoteJson(const Json& value) {
  if (value.is_string()) return "\"" + value.get<std::string>() + "\"";
  return "\"" + value.dump() + "\"";
}

std::string_view actionName(Action action) {
  static constexpr std::string_view kNames[] = {"Allow", "Deny", "Log", "Pass"};  // Action's order
  return kNames[static_cast<int>(action)];
}

std::string Protocol::text() const {
  if (named) {
    for (const auto& p : kProtocols) {
      if (p.number == number) return std::string(p.name);
    }
  }
  return std::to_string(number);
}

Result<Protocol> parseProtocol(const Json& value, const std::string& path) {
  const Error bad =
      invalid(path, quoteJson(value) +
                        " is not a protocol (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1-255)");
  if (value.is_number()) {
    auto n = jsonInt(value, 1, 255);
    if (!n) return bad;
    return Protocol{static_cast<uint8_t>(*n), false};
  }
  if (!value.is_string()) return bad;
  const std::string s = value.get<std::string>();
  if (allDigits(s)) {
    auto n = parseBounded(s, 1, 255);
    if (!n) return bad;
    return Protocol{static_cast<uint8_t>(*n), false};
  }
  for (const auto& p : kProtocols) {
    if (s == p.name) return Protocol{p.number, true};
  }
  // Calico's names are case-sensitive (only the v1 conversion reads "tcp").
  for (const auto& p : kProtocols) {
    if (equalsIgnoreCase(s, p.name)) {
      return invalid(path, quoteJson(value) + " is not a protocol; did you mean \"" +
                               std::string(p.name) + "\"?");
    }
  }
  return bad;
}

bool PortSet::covers(const PortSet& other) const {
  for (const auto& name : other.names) {
    if (std::find(names.begin(), names.end(), name) == names.end()) return false;
  }
  return std::all_of(other.ranges.begin(), other.ranges.end(),
                     [&](PortRange r) { return rangeCovered(r, ranges); });
}

std::string PortSet::text() const {
  std::string out;
  for (const auto& r : ranges) {
    if (!out.empty()) out += ",";
    out += std::to_string(r.first);
    if (r.last != r.first) {
      out += ':';
      out += std::to_string(r.last);
    }
  }
  for (const auto& n : names) {
    if (!out.empty()) out += ",";
    out += n;
  }
  return out;
}

bool EntityRule::hasConditions() const {
  return !nets.empty() || !notNets.empty() || selector || notSelector || namespaceSelector ||
         serviceAccounts || services || !ports.empty() || !notPorts.empty();
}

std::string EntityRule::text() const {
  std::vector<std::string> parts;
  auto netsText = [](const std::vector<Cidr>& v) {
    std::string s;
    for (const auto& c : v) {
      if (!s.empty()) s += ',';
      s += c.toString();
    }
    return s;
  };
  if (!nets.empty()) parts.push_back("nets " + netsText(nets));
  if (!notNets.empty()) parts.push_back("not nets " + netsText(notNets));
  if (selector) parts.push_back("selector " + selector->canonical());
  if (notSelector) parts.push_back("not selector " + notSelector->canonical());
  if (namespaceSelector) parts.push_back("namespace selector " + namespaceSelector->canonical());
  if (serviceAccounts) {
    std::string s = "service accounts";
    for (const auto& n : serviceAccounts->names) s += " " + n;
    if (serviceAccounts->selector) s += " selector " + serviceAccounts->selector->canonical();
    parts.push_back(s);
  }
  if (services)
    parts.push_back("service " + (services->ns.empty() ? "" : services->ns + "/") + services->name);
  if (!ports.empty()) parts.push_back("ports " + ports.text());
  if (!notPorts.empty()) parts.push_back("not ports " + notPorts.text());
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

bool Rule::hasConditions() const {
  return protocol || notProtocol || ipVersion || icmp || notICMP || http ||
         source.hasConditions() || destination.hasConditions();
}

std::string Rule::describe() const {
  std::string out(actionName(action));
  if (!hasConditions()) return out + ", no conditions";
  if (protocol) out += " " + protocol->text();
  if (notProtocol) out += " not " + notProtocol->text();
  if (ipVersion) out += " IPv" + std::to_string(*ipVersion);
  auto icmpText = [](const IcmpMatch& m) {
    std::string s;
    if (m.type) s += " type " + std::to_string(*m.type);
    if (m.code) s += " code " + std::to_string(*m.code);
    return s;
  };
  if (icmp) out += " icmp" + icmpText(*icmp);
  if (notICMP) out += " not icmp" + icmpText(*notICMP);
  if (destination.hasConditions()) out += " to " + destination.text();
  if (source.hasConditions()) out += " from " + source.text();
  if (http) out += " http " + http->dump();
  return out;
}

Result<selector::Selector> parseSelectorAt(const Json& value, const std::string& path) {
  if (!value.is_string())
    return invalid(path, "expected a selector string, got " + quoteJson(value));
  auto sel = selector::Selector::parse(value.get<std::string>());
  if (!sel) return invalid(path, sel.message());
  return sel;
}

std::vector<Result<Rule>> parseRules(const Json& spec, const char* direction) {
  std::vector<Result<Rule>> out;
  auto it = spec.find(direction);
  if (it == spec.end() || !it->is_array()) return out;
  const std::string path = std::string("spec.") + direction;
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) out.push_back(parseRule((*it)[i], indexed(path, i)));
  return out;
}

Result<Rule> parseRule(const Json& json, const std::string& path) {
  if (!json.is_object()) return invalid(path, "expected a rule object, got " + quoteJson(json));
  if (auto st = checkKnownFields(json, path,
                                 {"action", "protocol", "notProtocol", "ipVersion", "icmp",
                                  "notICMP", "source", "destination", "http", "metadata"});
      !st) {
    return st.error();
  }
  Rule r;
  auto actionIt = json.find("action");
  if (actionIt == json.end()) return invalid(join(path, "action"), "required");
  const std::string actionText = actionIt->is_string() ? actionIt->get<std::string>() : "";
  const Action actions[] = {Action::kAllow, Action::kDeny, Action::kLog, Action::kPass};
  auto action = std::ranges::find_if(
      actions, [&](Action a) { return equalsIgnoreCase(actionText, actionName(a)); });
  if (action == std::end(actions)) {
    return invalid(join(path, "action"),
                   quoteJson(*actionIt) + " is not an action (Allow, Deny, Log or Pass)");
  }
  r.action = *action;
  for (const auto& [key, value] : json.items()) {
    const std::string p = join(path, key);
    if (key == "protocol" || key == "notProtocol") {
      BRINDLE_ASSIGN_OR_RETURN(auto proto, parseProtocol(value, p));
      (key == "protocol" ? r.protocol : r.notProtocol) = proto;
    } else if (key == "ipVersion") {
      auto v = jsonInt(value, 4, 6);
      if (!v || (*v != 4 && *v != 6)) return invalid(p, quoteJson(value) + " is not 4 or 6");
      r.ipVersion = static_cast<int>(*v);
    } else if (key == "icmp" || key == "notICMP") {
      BRINDLE_ASSIGN_OR_RETURN(auto m, parseIcmp(value, p));
      (key == "icmp" ? r.icmp : r.notICMP) = m;
    } else if (key == "source" || key == "destination") {
      BRINDLE_ASSIGN_OR_RETURN(auto e, parseEntity(value, p));
      (key == "source" ? r.source : r.destination) = std::move(e);
    } else if (key == "http") {
      if (auto st = checkHttp(value, p); !st) return st.error();
      r.http = value;
    } else if (key == "metadata") {
      if (!value.is_object()) return invalid(p, "expected an object, got " + quoteJson(value));
      if (auto st = checkKnownFields(value, p, {"annotations"}); !st) return st.error();
      if (auto it = value.find("annotations"); it != value.end()) {
        if (!it->is_object()) return invalid(join(p, "annotations"), "expected a string map");
        for (const auto& [k, v] : it->items()) {
          if (!isQualifiedName(toLower(k))) {
            return invalid(
                join(join(p, "annotations"), k),
                "\"" + k + "\" is not a valid annotation key (prefix/name, e.g. example.com/note)");
          }
          if (!v.is_string()) {
            return invalid(join(join(p, "annotations"), k), quoteJson(v) + " is not a string");
          }
          r.annotations[k] = v.get<std::string>();
        }
      }
    }
  }

  // Calico's cross-field rules.
  if (auto st = checkPortsAllowed(r, r.source, join(path, "source")); !st) return st.error();
  if (auto st = checkPortsAllowed(r, r.destination, join(path, "destination")); !st) {
    return st.error();
  }
  const bool icmpProto = r.protocol && (r.protocol->number == 1 || r.protocol->number == 58);
  if (r.icmp && !icmpProto) {
    return invalid(join(path, "icmp"),
                   "needs protocol ICMP or ICMPv6 (" + protocolTextOrNone(r.protocol) + ")");
  }
  if (r.notICMP && !icmpProto) {
    return invalid(join(path, "notICMP"),
                   "needs protocol ICMP or ICMPv6 (" + protocolTextOrNone(r.protocol) + ")");
  }
  for (const auto* proto : {&r.protocol, &r.notProtocol}) {
    if (!*proto || !r.ipVersion) continue;
    if ((*proto)->number == 1 && *r.ipVersion != 4) {
      return invalid(join(path, "ipVersion"), "must be 4 with protocol ICMP");
    }
    if ((*proto)->number == 58 && *r.ipVersion != 6) {
      return invalid(join(path, "ipVersion"), "must be 6 with protocol ICMPv6");
    }
  }
  if (auto st = checkNetFamilies(r, path); !st) return st.error();
  if (r.http && r.action != Action::kAllow) {
    return invalid(join(path, "http"), "only valid for Allow rules");
  }
  if (r.http && r.protocol && r.protocol->number != 6) {
    return invalid(join(path, "http"),
                   "needs protocol TCP (or none), but protocol is \"" + r.protocol->text() + "\"");
  }
  if (r.destination.services && !r.destination.ports.empty()) {
    return invalid(join(path, "destination.ports"), "cannot be combined with services");
  }
  if (r.destination.services && !r.destination.notPorts.empty()) {
    return invalid(join(path, "destination.notPorts"), "cannot be combined with services");
  }
  return r;
}

bool ruleCovers(const Rule& earlier, const Rule& later) {
  if (!earlier.hasConditions()) return true;
  if (earlier.protocol && later.protocol != earlier.protocol) return false;
  if (earlier.notProtocol) {
    const bool excluded = later.notProtocol == earlier.notProtocol ||
                          (later.protocol && !(*later.protocol == *earlier.notProtocol));
    if (!excluded) return false;
  }
  if (earlier.ipVersion && later.ipVersion != earlier.ipVersion) {
    // A later rule whose nets are all of the same family also only sees that family.
    const bool netsImply = [&] {
      const auto& nets = !later.source.nets.empty() ? later.source.nets : later.destination.nets;
      if (nets.empty()) return false;
      return std::all_of(nets.begin(), nets.end(),
                         [&](const Cidr& c) { return c.isV4() == (*earlier.ipVersion == 4); });
    }();
    if (!netsImply) return false;
  }
  if (!icmpCovers(earlier.icmp, later.icmp)) return false;
  if (earlier.notICMP && earlier.notICMP != later.notICMP) return false;
  if (earlier.http && earlier.http != later.http) return false;
  return entityCovers(earlier.source, later.source) &&
         entityCovers(earlier.destination, later.destination);
}

}  // namespace brindle::model
