// The Dataplane over rtnetlink (libnl-route-3). Container-side work goes through a socket opened
// inside the container's network namespace (os/netlink.h), so the plugin's own thread never
// leaves the node's namespace.
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <utility>

#include <netlink/route/link/veth.h>

#include "cni/dataplane.h"
#include "os/netlink.h"
#include "os/netns.h"
#include "os/sysctl.h"

namespace brindle::cni {
namespace {

using os::nlError;

os::NlAddr parseAddr(const std::string& text, int family) {
  os::NlAddr a;
  nl_addr_parse(text.c_str(), family, a.out());
  return a;
}

std::string ipText(nl_addr* a) {
  if (!a || nl_addr_get_len(a) == 0) return "";
  char buf[INET6_ADDRSTRLEN] = {0};
  inet_ntop(nl_addr_get_family(a), nl_addr_get_binary_addr(a), buf, sizeof buf);
  return buf;
}

std::string macText(nl_addr* a) {
  char buf[64] = {0};
  if (!a) return "";
  nl_addr2str(a, buf, sizeof buf);
  return buf;
}

Result<int> ifIndex(nl_sock* sock, const std::string& name, os::NlLink* link) {
  if (int err = rtnl_link_get_kernel(sock, 0, name.c_str(), link->out()); err < 0) {
    return nlError(err, "link " + name);
  }
  return rtnl_link_get_ifindex(link->get());
}

Status setUp(nl_sock* sock, rtnl_link* link, const std::string& name) {
  os::NlLink change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sock, link, change.get(), 0); err < 0) {
    return nlError(err, "set " + name + " up");
  }
  return Status::ok();
}

Status addRoute(nl_sock* sock, int family, const std::string& dst, const std::string& gw,
                int ifindex, bool scopeLink, const std::string& what) {
  os::NlRoute r(rtnl_route_alloc());
  os::NlAddr d = parseAddr(dst, family);
  if (!d.get()) return makeError(ErrorCode::kInvalid, "bad route destination " + dst);
  rtnl_route_set_family(r.get(), family);
  rtnl_route_set_dst(r.get(), d.get());
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(r.get(), RTPROT_BOOT);
  rtnl_route_set_scope(r.get(), scopeLink ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_ifindex(nh, ifindex);
  os::NlAddr g;
  if (!gw.empty()) {
    g = parseAddr(gw, family);
    rtnl_route_nh_set_gateway(nh, g.get());
  }
  rtnl_route_add_nexthop(r.get(), nh);  // the route owns nh now
  if (int err = rtnl_route_add(sock, r.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0) {
    return nlError(err, what);
  }
  return Status::ok();
}

Status addNeighbour(nl_sock* sock, int family, const std::string& ip, int ifindex) {
  os::NlNeigh n(rtnl_neigh_alloc());
  os::NlAddr dst = parseAddr(ip, family);
  os::NlAddr ll = parseAddr(kHostMac, AF_LLC);
  rtnl_neigh_set_ifindex(n.get(), ifindex);
  rtnl_neigh_set_dst(n.get(), dst.get());
  rtnl_neigh_set_lladdr(n.get(), ll.get());
  rtnl_neigh_set_state(n.get(), NUD_PERMANENT);
  if (int err = rtnl_neigh_add(sock, n.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0) {
    return nlError(err, "permanent neighbour " + ip);
  }
  return Status::ok();
}

// Addresses, routes and neighbours of one link in `netns` ("" = the node's).
Result<LinkView> readLinkView(const std::string& netns, const std::string& name) {
  BRINDLE_ASSIGN_OR_RETURN(auto socket, os::openRouteSocket(netns));
  nl_sock* sock = socket.get();
  LinkView view;
  os::NlLink link;
  BRINDLE_ASSIGN_OR_RETURN(auto idx, ifIndex(sock, name, &link));
  view.mac = macText(rtnl_link_get_addr(link.get()));
  view.mtu = static_cast<int>(rtnl_link_get_mtu(link.get()));
  view.up = (rtnl_link_get_flags(link.get()) & IFF_UP) != 0;

  os::NlCache addrs;
  if (int err = rtnl_addr_alloc_cache(sock, addrs.out()); err < 0) return nlError(err, "addresses");
  for (nl_object* o = nl_cache_get_first(addrs.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != idx) continue;
    std::string ip = ipText(rtnl_addr_get_local(a));
    if (ip.rfind("fe80:", 0) == 0) continue;  // the kernel's own link-local
    if (auto c = Cidr::parse(ip + "/" + std::to_string(rtnl_addr_get_prefixlen(a)))) {
      view.addresses.push_back(*c);
    }
  }
  os::NlCache routes;
  if (int err = rtnl_route_alloc_cache(sock, AF_UNSPEC, 0, routes.out()); err < 0) {
    return nlError(err, "routes");
  }
  for (nl_object* o = nl_cache_get_first(routes.get()); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_nnexthops(r) != 1) continue;
    rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
    if (rtnl_route_nh_get_ifindex(nh) != idx) continue;
    nl_addr* dst = rtnl_route_get_dst(r);
    std::string text = (!dst || nl_addr_get_prefixlen(dst) == 0)
                           ? "default"
                           : ipText(dst) + "/" + std::to_string(nl_addr_get_prefixlen(dst));
    if (text.rfind("fe80::/", 0) == 0 || text.rfind("ff00::/", 0) == 0) continue;
    if (nl_addr* gw = rtnl_route_nh_get_gateway(nh)) text += " via " + ipText(gw);
    text += " dev " + name;
    if (rtnl_route_get_scope(r) == RT_SCOPE_LINK) text += " scope link";
    view.routes.push_back(text);
  }
  os::NlCache neighs;
  if (int err = rtnl_neigh_alloc_cache(sock, neighs.out()); err < 0) {
    return nlError(err, "neighbours");
  }
  for (nl_object* o = nl_cache_get_first(neighs.get()); o; o = nl_cache_get_next(o)) {
    auto* n = reinterpret_cast<rtnl_neigh*>(o);
    if (rtnl_neigh_get_ifindex(n) != idx || rtnl_neigh_get_state(n) != NUD_PERMANENT) continue;
    view.neighbours.push_back(ipText(rtnl_neigh_get_dst(n)) + " lladdr " +
                              macText(rtnl_neigh_get_lladdr(n)) + " PERMANENT");
  }
  return view;
}

class NetlinkDataplane : public Dataplane {
 public:
  Status createVeth(const VethSpec& spec) override {
    BRINDLE_ASSIGN_OR_RETURN(auto sock, os::openRouteSocket());
    BRINDLE_ASSIGN_OR_RETURN(auto nsfd, os::openNetns(spec.netns));
    os::NlLink link(rtnl_link_veth_alloc());
    rtnl_link_set_name(link.get(), spec.hostName.c_str());
    rtnl_link_set_mtu(link.get(), spec.mtu);
    os::NlAddr mac = parseAddr(kHostMac, AF_LLC);
    rtnl_link_set_addr(link.get(), mac.get());
    rtnl_link* peer = rtnl_link_veth_get_peer(link.get());
    rtnl_link_set_name(peer, spec.containerName.c_str());
    rtnl_link_set_mtu(peer, spec.mtu);
    rtnl_link_set_ns_fd(peer, nsfd);  // created in the container's namespace, never moved
    int err = rtnl_link_add(sock.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
    rtnl_link_put(peer);
    ::close(nsfd);
    if (err < 0) {
      return nlError(
          err, "create veth " + spec.hostName + " <-> " + spec.netns + ":" + spec.containerName);
    }
    return Status::ok();
  }

  Status configureHostSide(const std::string& hostName, bool ipv6) override {
    const std::string v4 = "net/ipv4/conf/" + hostName + "/";
    std::vector<os::SysctlSetting> settings = {{v4 + "proxy_arp", "1"},
                                               {"net/ipv4/neigh/" + hostName + "/proxy_delay", "0"},
                                               {v4 + "forwarding", "1"}};
    if (ipv6) {
      const std::string v6 = "net/ipv6/conf/" + hostName + "/";
      settings.insert(settings.end(), {{v6 + "disable_ipv6", "0"},
                                       {v6 + "accept_ra", "0"},
                                       // Its link-local must be usable at once for neighbour
                                       // discovery towards the workload, not tentative for ~1 s.
                                       {v6 + "accept_dad", "0"},
                                       {v6 + "proxy_ndp", "1"},
                                       {v6 + "forwarding", "1"}});
    }
    if (Status s = os::ProcSysctlWriter().write(settings); !s) return s;
    BRINDLE_ASSIGN_OR_RETURN(auto sock, os::openRouteSocket());
    os::NlLink link;
    if (auto idx = ifIndex(sock.get(), hostName, &link); !idx) return idx.status();
    return setUp(sock.get(), link.get(), hostName);
  }

  Result<std::string> configureContainerSide(const std::string& netns, const std::string& ifName,
                                             const std::vector<IpAddr>& addresses) override {
    bool anyV6 = false;
    for (const auto& a : addresses) anyV6 |= !a.isV4();
    if (anyV6) {
      // Runtimes may create the namespace with IPv6 off; the workload needs it on.
      (void)os::ProcSysctlWriter(netns).write({{"net/ipv6/conf/all/disable_ipv6", "0"},
                                               {"net/ipv6/conf/" + ifName + "/disable_ipv6", "0"},
                                               {"net/ipv6/conf/" + ifName + "/accept_dad", "0"}});
    }
    auto sock = os::openRouteSocket(netns);  // talks to the container's namespace from here
    if (!sock) return sock.status();
    nl_sock* sk = sock->get();
    os::NlLink link;
    BRINDLE_ASSIGN_OR_RETURN(auto idx, ifIndex(sk, ifName, &link));
    std::string mac = macText(rtnl_link_get_addr(link.get()));
    if (Status st = setUp(sk, link.get(), ifName); !st) return st;
    for (const auto& a : addresses) {
      const int family = a.isV4() ? AF_INET : AF_INET6;
      os::NlRtAddr ra(rtnl_addr_alloc());
      os::NlAddr local = parseAddr(a.toString() + "/" + std::to_string(a.bits()), family);
      rtnl_addr_set_ifindex(ra.get(), idx);
      rtnl_addr_set_local(ra.get(), local.get());
      if (!a.isV4()) rtnl_addr_set_flags(ra.get(), IFA_F_NODAD);
      if (int err = rtnl_addr_add(sk, ra.get(), 0); err < 0) {
        return nlError(err, "address " + a.toString() + " on " + ifName);
      }
    }
    for (int family : {AF_INET, AF_INET6}) {
      bool want = false;
      for (const auto& a : addresses) want |= (a.isV4() == (family == AF_INET));
      if (!want) continue;
      const std::string gw = family == AF_INET ? kGatewayV4 : kGatewayV6;
      // Static neighbour first: the workload never has to ARP/ND for its gateway, so it works
      // whether or not the node could answer by proxy (see FIELD-NOTES: proxy-ARP pitfall).
      if (Status st = addNeighbour(sk, family, gw, idx); !st) return st;
      if (family == AF_INET) {
        if (Status st = addRoute(sk, family, gw + "/32", "", idx, true, "route to gateway"); !st) {
          return st;
        }
      }
      const std::string def = family == AF_INET ? "0.0.0.0/0" : "::/0";
      if (Status st = addRoute(sk, family, def, gw, idx, false, "default route"); !st) {
        return st;
      }
    }
    return mac;
  }

  Status addHostRoute(const IpAddr& address, const std::string& hostName) override {
    BRINDLE_ASSIGN_OR_RETURN(auto sock, os::openRouteSocket());
    os::NlLink link;
    BRINDLE_ASSIGN_OR_RETURN(auto idx, ifIndex(sock.get(), hostName, &link));
    const int family = address.isV4() ? AF_INET : AF_INET6;
    return addRoute(sock.get(), family, address.toString() + "/" + std::to_string(address.bits()),
                    "", idx, true, "host route " + address.toString() + " dev " + hostName);
  }

  Status deleteHostLink(const std::string& hostName) override { return deleteLink("", hostName); }

  Status deleteContainerLink(const std::string& netns, const std::string& ifName) override {
    return deleteLink(netns, ifName);
  }

  Result<LinkView> inspectHost(const std::string& hostName) override {
    auto view = readLinkView("", hostName);
    if (!view) return view;
    for (const char* key : {"proxy_arp", "forwarding"}) {
      view->sysctls.push_back(std::string(key) + "=" +
                              os::readSysctl("net/ipv4/conf/" + hostName + "/" + key));
    }
    view->sysctls.push_back("proxy_delay=" +
                            os::readSysctl("net/ipv4/neigh/" + hostName + "/proxy_delay"));
    return view;
  }

  Result<LinkView> inspectContainer(const std::string& netns, const std::string& ifName) override {
    return readLinkView(netns, ifName);
  }

 private:
  static Status deleteLink(const std::string& netns, const std::string& name) {
    BRINDLE_ASSIGN_OR_RETURN(auto sock, os::openRouteSocket(netns));
    os::NlLink link(rtnl_link_alloc());
    rtnl_link_set_name(link.get(), name.c_str());
    if (int err = rtnl_link_delete(sock.get(), link.get()); err < 0) {
      return nlError(err, "delete link " + name);
    }
    return Status::ok();
  }
};

}  // namespace

DataplanePtr makeNetlinkDataplane() { return std::make_unique<NetlinkDataplane>(); }

}  // namespace brindle::cni
