// RouteNetlink over libnl-route-3 (os/netlink.h); the socket is opened inside the target
// namespace and used from the caller's thread afterwards.
#include "dataplane/route_netlink.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "os/netlink.h"

namespace brindle::dataplane {
namespace {

using os::nlError;

std::string addrText(nl_addr* addr, int family) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (nl_addr_get_len(addr) == 0) return family == AF_INET6 ? "::" : "0.0.0.0";
  inet_ntop(family, nl_addr_get_binary_addr(addr), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(nl_addr_get_prefixlen(addr));
}

class LibnlRouteNetlink : public RouteNetlink {
 public:
  explicit LibnlRouteNetlink(os::NlSock sock) : sock_(std::move(sock)) {}

  Result<std::vector<LinkInfo>> listLinks() override {
    os::NlCache cache;
    int err = rtnl_link_alloc_cache(sock_.get(), AF_UNSPEC, cache.out());
    if (err < 0) return nlError(err, "list links");
    std::vector<LinkInfo> out;
    for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
      auto* link = reinterpret_cast<rtnl_link*>(o);
      out.push_back(
          {rtnl_link_get_name(link), rtnl_link_get_ifindex(link), rtnl_link_get_group(link)});
    }
    return out;
  }

  Status setLinkGroup(int ifindex, uint32_t group) override {
    // The index must be set: the kernel reads IFLA_GROUP without one as "change every link in
    // that group".
    if (ifindex <= 0) return makeError(ErrorCode::kInvalid, "set link group: no ifindex");
    os::NlLink link(rtnl_link_alloc()), change(rtnl_link_alloc());
    if (!link.get() || !change.get()) return makeError(ErrorCode::kInternal, "rtnl_link_alloc");
    rtnl_link_set_ifindex(link.get(), ifindex);
    rtnl_link_set_group(change.get(), group);
    int err = rtnl_link_change(sock_.get(), link.get(), change.get(), 0);
    if (err < 0) {
      return nlError(err,
                     "set group " + std::to_string(group) + " on link " + std::to_string(ifindex));
    }
    return Status::ok();
  }

  Result<std::vector<RouteEntry>> listRoutes(int table) override {
    std::vector<RouteEntry> out;
    for (int family : {AF_INET, AF_INET6}) {
      os::NlCache cache;
      int err = rtnl_route_alloc_cache(sock_.get(), family, 0, cache.out());
      if (err < 0) return nlError(err, "list routes");
      for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
        auto* route = reinterpret_cast<rtnl_route*>(o);
        if (static_cast<int>(rtnl_route_get_table(route)) != table) continue;
        int type = rtnl_route_get_type(route);
        if (type != RTN_UNICAST && type != RTN_BLACKHOLE) continue;
        auto cidr = Cidr::parse(addrText(rtnl_route_get_dst(route), family));
        if (!cidr) continue;
        RouteEntry entry;
        entry.dest = *cidr;
        entry.blackhole = type == RTN_BLACKHOLE;
        entry.protocol = rtnl_route_get_protocol(route);
        entry.table = table;
        if (!entry.blackhole && rtnl_route_get_nnexthops(route) > 0) {
          rtnl_nexthop* nh = rtnl_route_nexthop_n(route, 0);
          entry.ifindex = rtnl_route_nh_get_ifindex(nh);
          if (nl_addr* gw = rtnl_route_nh_get_gateway(nh); gw && nl_addr_get_len(gw) > 0) {
            std::string text = addrText(gw, family);
            if (auto ip = IpAddr::parse(text.substr(0, text.find('/')))) entry.gateway = *ip;
          }
        }
        out.push_back(entry);
      }
    }
    return out;
  }

  Status replaceRoute(const RouteEntry& entry) override {
    auto route = build(entry);
    if (!route) return route.status();
    int err = rtnl_route_add(sock_.get(), route->get(), NLM_F_CREATE | NLM_F_REPLACE);
    if (err < 0) return nlError(err, "replace route " + entry.dest.toString());
    return Status::ok();
  }

  Status deleteRoute(const RouteEntry& entry) override {
    auto route = build(entry);
    if (!route) return route.status();
    int err = rtnl_route_delete(sock_.get(), route->get(), 0);
    if (err < 0 && err != -NLE_OBJ_NOTFOUND) {
      return nlError(err, "delete route " + entry.dest.toString());
    }
    return Status::ok();
  }

 private:
  Result<os::NlRoute> build(const RouteEntry& entry) {
    int family = entry.dest.isV4() ? AF_INET : AF_INET6;
    os::NlRoute route(rtnl_route_alloc());
    const auto& bytes = entry.dest.address().bytes();
    os::NlAddr dst(nl_addr_build(family, bytes.data(), entry.dest.isV4() ? 4 : 16));
    if (!dst.get()) return makeError(ErrorCode::kInternal, "nl_addr_build");
    nl_addr_set_prefixlen(dst.get(), entry.dest.prefixLength());
    rtnl_route_set_family(route.get(), static_cast<uint8_t>(family));
    if (int err = rtnl_route_set_dst(route.get(), dst.get()); err < 0)
      return nlError(err, "route dst");
    rtnl_route_set_table(route.get(), static_cast<uint32_t>(entry.table));
    rtnl_route_set_protocol(route.get(), static_cast<uint8_t>(entry.protocol));
    if (entry.blackhole) {
      rtnl_route_set_type(route.get(), RTN_BLACKHOLE);
      rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
    } else {
      rtnl_route_set_type(route.get(), RTN_UNICAST);
      rtnl_route_set_scope(route.get(), entry.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
      rtnl_nexthop* nh = rtnl_route_nh_alloc();
      rtnl_route_nh_set_ifindex(nh, entry.ifindex);
      if (entry.gateway) {
        const auto& gw = entry.gateway->bytes();
        os::NlAddr via(nl_addr_build(family, gw.data(), entry.gateway->isV4() ? 4 : 16));
        if (!via.get()) {
          rtnl_route_nh_free(nh);
          return makeError(ErrorCode::kInternal, "nl_addr_build");
        }
        rtnl_route_nh_set_gateway(nh, via.get());  // takes its own reference
        rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
      }
      rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh now
    }
    return route;
  }

  os::NlSock sock_;
};

}  // namespace

Result<RouteNetlinkPtr> openLibnlRouteNetlink(const std::string& netns) {
  BRINDLE_ASSIGN_OR_RETURN(auto sock, os::openRouteSocket(netns));
  return RouteNetlinkPtr(std::make_unique<LibnlRouteNetlink>(std::move(sock)));
}

}  // namespace brindle::dataplane
