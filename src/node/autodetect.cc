// Address autodetection (see autodetect.h): method parsing, the pure pick, and the two reads of
// the kernel it needs (interfaces with addresses, the source address towards a destination).
#include "node/autodetect.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <regex>

#include "common/strings.h"
#include "os/netlink.h"

namespace brindle::node {
namespace {

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string part = trim(text.substr(start, comma - start));
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool inCidr(const IpAddr& ip, const char* cidr) { return Cidr::parse(cidr)->contains(ip); }

// Go's net.IP.IsGlobalUnicast, which Calico's autodetection filters on: private ranges count.
bool isGlobalUnicast(const IpAddr& ip) {
  if (ip.isV4()) {
    return !inCidr(ip, "0.0.0.0/32") && !inCidr(ip, "127.0.0.0/8") &&
           !inCidr(ip, "169.254.0.0/16") && !inCidr(ip, "224.0.0.0/4") &&
           !inCidr(ip, "255.255.255.255/32");
  }
  return !inCidr(ip, "::/128") && !inCidr(ip, "::1/128") && !inCidr(ip, "fe80::/10") &&
         !inCidr(ip, "ff00::/8");
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// One regex matching any of `regexes` anywhere in a name (Go's MatchString searches too).
Result<std::optional<std::regex>> anyOf(const std::vector<std::string>& regexes,
                                        const std::string& method) {
  if (regexes.empty()) return std::optional<std::regex>();
  std::string combined;
  for (const auto& r : regexes) combined += (combined.empty() ? "(" : "|(") + r + ")";
  try {
    return std::optional<std::regex>(std::regex(combined, std::regex::ECMAScript));
  } catch (const std::regex_error& e) {
    return makeError(ErrorCode::kInvalid, "IP autodetection method " + method +
                                              ": invalid interface regex: " + e.what());
  }
}

struct Candidate {
  const HostInterface* iface;
  const InterfaceAddress* address;
};

// The first global unicast address of `family`, interfaces walked last to first, that passes
// the filters.
std::optional<Candidate> firstMatch(const std::vector<HostInterface>& interfaces, int family,
                                    const std::optional<std::regex>& include,
                                    const std::optional<std::regex>& exclude,
                                    const std::vector<Cidr>& cidrs) {
  for (auto it = interfaces.rbegin(); it != interfaces.rend(); ++it) {
    if (include && !std::regex_search(it->name, *include)) continue;
    if (exclude && std::regex_search(it->name, *exclude)) continue;
    for (const auto& a : it->addresses) {
      if (a.ip.isV4() != (family == 4) || !isGlobalUnicast(a.ip)) continue;
      bool inside = cidrs.empty();
      for (const auto& c : cidrs) inside = inside || c.contains(a.ip);
      if (inside) return Candidate{&*it, &a};
    }
  }
  return std::nullopt;
}

// "; passed over: eth0 10.0.1.5/24, docker0 172.17.0.1/16 (excluded)": the other candidates,
// so a wrong pick shows at once what it could have been.
std::string passedOver(const std::vector<HostInterface>& interfaces, int family,
                       const Candidate& picked, const std::optional<std::regex>& exclude) {
  std::vector<std::string> others;
  for (const auto& i : interfaces) {
    for (const auto& a : i.addresses) {
      if (&a == picked.address || a.ip.isV4() != (family == 4) || !isGlobalUnicast(a.ip)) continue;
      const bool excluded = exclude && std::regex_search(i.name, *exclude);
      others.push_back(i.name + " " + a.text() + (excluded ? " (excluded)" : ""));
    }
  }
  return others.empty() ? "" : "; passed over: " + joined(others);
}

std::string names(const std::vector<HostInterface>& interfaces) {
  std::vector<std::string> n;
  for (const auto& i : interfaces) n.push_back(i.name);
  return n.empty() ? "none" : joined(n);
}

}  // namespace

const std::vector<std::string>& defaultExcludedInterfaces() {
  static const std::vector<std::string> excluded = splitList(
      "^docker.*, ^cbr.*, ^dummy.*, ^podman.*, ^virbr.*, ^lxcbr.*, ^veth.*, ^lo, ^br-.*, ^cali.*, "
      "^tunl.*, ^flannel.*, ^kube-ipvs.*, ^cni.*, ^vxlan\\.calico.*, ^vxlan-v6\\.calico.*, "
      "^wireguard\\.cali.*, ^wg-v6\\.cali.*, ^nodelocaldns.*");
  return excluded;
}

Result<AutodetectMethod> parseAutodetectMethod(const std::string& text, const std::string& flag) {
  using Kind = AutodetectMethod::Kind;
  AutodetectMethod m{Kind::kFirstFound, {}, text.empty() ? "first-found" : text};
  if (text.empty() || text == "first-found") return m;
  static const std::pair<const char*, Kind> prefixes[] = {{"interface=", Kind::kInterface},
                                                          {"skip-interface=", Kind::kSkipInterface},
                                                          {"can-reach=", Kind::kCanReach},
                                                          {"cidr=", Kind::kCidr}};
  for (const auto& [prefix, kind] : prefixes) {
    if (text.rfind(prefix, 0) != 0) continue;
    m.kind = kind;
    m.values = kind == Kind::kCanReach ? std::vector<std::string>{trim(text.substr(strlen(prefix)))}
                                       : splitList(text.substr(strlen(prefix)));
    if (m.values.empty() || m.values[0].empty()) {
      return makeError(ErrorCode::kInvalid, flag + " " + text + ": nothing after '" + prefix + "'");
    }
    if (kind == Kind::kCidr) {
      for (const auto& c : m.values) {
        if (!Cidr::parse(c, false)) {
          return makeError(ErrorCode::kInvalid, flag + " " + text + ": invalid CIDR " + c);
        }
      }
    }
    return m;
  }
  return makeError(ErrorCode::kInvalid,
                   flag + " " + text +
                       ": unknown method (first-found, interface=REGEX, skip-interface=REGEX, "
                       "can-reach=DEST or cidr=CIDR)");
}

Result<DetectedAddress> pickAddress(const AutodetectMethod& method, int family,
                                    const std::vector<HostInterface>& interfaces,
                                    const SourceLookup& sourceFor) {
  using Kind = AutodetectMethod::Kind;
  const std::string v = "IPv" + std::to_string(family);
  std::optional<std::regex> exclude;  // first-found and skip-interface=
  auto found = [&](const Candidate& c, const std::string& reason) -> Result<DetectedAddress> {
    return DetectedAddress{c.iface->name, *c.address,
                           reason + passedOver(interfaces, family, c, exclude)};
  };
  auto notFound = [&](const std::string& what) -> Result<DetectedAddress> {
    return makeError(ErrorCode::kNotFound, "no " + v + " address found by " + method.text + ": " +
                                               what + " (interfaces: " + names(interfaces) + ")");
  };
  std::vector<std::string> excluded = defaultExcludedInterfaces();
  switch (method.kind) {
    case Kind::kFirstFound:
    case Kind::kSkipInterface: {
      const bool skip = method.kind == Kind::kSkipInterface;
      if (skip) excluded.insert(excluded.end(), method.values.begin(), method.values.end());
      auto excludeAny = anyOf(excluded, method.text);
      if (!excludeAny) return excludeAny.error();
      exclude = *excludeAny;
      auto c = firstMatch(interfaces, family, std::nullopt, exclude, {});
      if (!c) return notFound("every interface is excluded or has no global address");
      std::string why = method.text + ": the first interface with a global " + v +
                        " address, walking the interfaces from the last listed to the first " +
                        "(as Calico), skipping Calico's defaults (docker*, veth*, cali*, lo, ...)";
      if (skip) why += " and " + joined(method.values);
      return found(*c, why);
    }
    case Kind::kInterface: {
      auto include = anyOf(method.values, method.text);
      if (!include) return include.error();
      auto c = firstMatch(interfaces, family, *include, std::nullopt, {});
      if (!c) return notFound("no matching interface has a global address");
      return found(*c, method.text + ": " + c->iface->name + " matches " + joined(method.values));
    }
    case Kind::kCidr: {
      std::vector<Cidr> cidrs;
      for (const auto& t : method.values) cidrs.push_back(*Cidr::parse(t, false));
      auto c = firstMatch(interfaces, family, std::nullopt, std::nullopt, cidrs);
      if (!c) return notFound("no interface address lies in " + joined(method.values));
      return found(
          *c, method.text + ": " + c->address->ip.toString() + " lies in " + joined(method.values));
    }
    case Kind::kCanReach: {
      auto source = sourceFor(method.values[0], family);
      if (!source) return notFound(source.message());
      for (const auto& i : interfaces) {
        for (const auto& a : i.addresses) {
          if (a.ip == *source) {
            return found(Candidate{&i, &a}, method.text + ": the kernel routes to " +
                                                method.values[0] + " from " + source->toString() +
                                                " (on " + i.name + ")");
          }
        }
      }
      return notFound("the kernel's source address " + source->toString() + " is on no interface");
    }
  }
  return notFound("unknown method");
}

Result<std::vector<HostInterface>> listHostInterfaces() {
  auto sock = os::openRouteSocket();
  if (!sock) return sock.error();
  os::NlCache links, addrs;
  if (int err = rtnl_link_alloc_cache(sock->get(), AF_UNSPEC, links.out()); err < 0) {
    return os::nlError(err, "list interfaces");
  }
  if (int err = rtnl_addr_alloc_cache(sock->get(), addrs.out()); err < 0) {
    return os::nlError(err, "list addresses");
  }
  std::map<int, HostInterface> byIndex;  // index order, as the kernel lists them
  for (nl_object* o = nl_cache_get_first(links.get()); o; o = nl_cache_get_next(o)) {
    auto* l = reinterpret_cast<rtnl_link*>(o);
    byIndex[rtnl_link_get_ifindex(l)].name = rtnl_link_get_name(l);
  }
  for (nl_object* o = nl_cache_get_first(addrs.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    nl_addr* local = rtnl_addr_get_local(a);
    auto it = byIndex.find(rtnl_addr_get_ifindex(a));
    if (local == nullptr || it == byIndex.end()) continue;
    const int family = nl_addr_get_family(local);
    if (family != AF_INET && family != AF_INET6) continue;
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, nl_addr_get_binary_addr(local), text, sizeof text);
    auto ip = IpAddr::parse(text);
    if (ip) it->second.addresses.push_back({*ip, rtnl_addr_get_prefixlen(a)});
  }
  std::vector<HostInterface> out;
  for (auto& [index, iface] : byIndex) out.push_back(std::move(iface));
  return out;
}

Result<IpAddr> kernelSourceAddress(const std::string& dest, int family) {
  addrinfo hints{};
  hints.ai_family = family == 4 ? AF_INET : AF_INET6;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (int err = ::getaddrinfo(dest.c_str(), "80", &hints, &res); err != 0) {
    return makeError(ErrorCode::kNotFound, "cannot resolve " + dest + ": " + gai_strerror(err));
  }
  const int fd = ::socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::string error;
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (fd < 0 || ::connect(fd, res->ai_addr, res->ai_addrlen) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    error = "no route to " + dest + ": " + std::strerror(errno);
  }
  ::freeaddrinfo(res);
  if (fd >= 0) ::close(fd);
  if (!error.empty()) return makeError(ErrorCode::kNotFound, error);
  char text[INET6_ADDRSTRLEN] = {};
  if (local.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&local)->sin_addr, text, sizeof text);
  } else {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr, text, sizeof text);
  }
  return IpAddr::parse(text);
}

std::string defaultIpv4PoolCidr(const std::vector<HostInterface>& host) {
  const auto free = [&](const std::string& text) {
    const Cidr pool = *Cidr::parse(text, true);
    for (const auto& i : host) {
      for (const auto& a : i.addresses) {
        if (pool.contains(a.ip)) return false;
      }
    }
    return true;
  };
  if (free("192.168.0.0/16")) return "192.168.0.0/16";
  for (int second = 16; second <= 31; ++second) {
    const std::string candidate = "172." + std::to_string(second) + ".0.0/16";
    if (free(candidate)) return candidate;
  }
  return "192.168.0.0/16";
}

}  // namespace brindle::node
