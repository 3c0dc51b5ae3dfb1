#include "os/ipip_device.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link/ipip.h>
#include <sys/socket.h>

#include "os/netlink.h"

namespace brindle::os {
namespace {

constexpr const char* kDevice = "tunl0";

// tunl0, or an empty NlLink when it does not exist.
Result<NlLink> findDevice(nl_sock* sock) {
  NlLink link;
  int err = rtnl_link_get_kernel(sock, 0, kDevice, link.out());
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return NlLink();
  if (err < 0) return nlError(err, std::string("find ") + kDevice);
  return link;
}

std::optional<IpAddr> addrOf(rtnl_addr* a) {
  nl_addr* local = rtnl_addr_get_local(a);
  if (local == nullptr || nl_addr_get_len(local) != 4) return std::nullopt;
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, nl_addr_get_binary_addr(local), text, sizeof text);
  auto ip = IpAddr::parse(text);
  if (!ip) return std::nullopt;
  return *ip;
}

// Removes tunl0's IPv4 addresses other than `keep`; reports whether `keep` is already there.
Result<bool> pruneAddresses(nl_sock* sock, int ifindex, const std::optional<IpAddr>& keep) {
  NlCache cache;
  if (int err = rtnl_addr_alloc_cache(sock, cache.out()); err < 0) {
    return nlError(err, "list addresses");
  }
  bool present = false;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET) continue;
    auto ip = addrOf(a);
    if (keep && ip && *ip == *keep && rtnl_addr_get_prefixlen(a) == 32) {
      present = true;
      continue;
    }
    if (int err = rtnl_addr_delete(sock, a, 0); err < 0 && err != -NLE_NOADDR) {
      return nlError(err, std::string("remove an address of ") + kDevice);
    }
  }
  return present;
}

}  // namespace

Status ensureIpipDevice(const std::string& netns, int mtu, const std::optional<IpAddr>& address) {
  BRINDLE_ASSIGN_OR_RETURN(auto sock, openRouteSocket(netns));
  auto link = findDevice(sock.get());
  if (!link) return link.status();
  if (!link->get()) {
    // Normally the ipip module makes tunl0 in every namespace; ask for it by name otherwise.
    NlLink fresh(rtnl_link_ipip_alloc());
    if (!fresh.get()) return makeError(ErrorCode::kInternal, "netlink: out of memory");
    rtnl_link_set_name(fresh.get(), kDevice);
    int err = rtnl_link_add(sock.get(), fresh.get(), NLM_F_CREATE);
    if (err < 0 && err != -NLE_EXIST) {
      return makeError(ErrorCode::kUnavailable,
                       nlError(err, std::string("create ") + kDevice).message +
                           " (does the kernel have IPIP, CONFIG_NET_IPIP?)");
    }
    link = findDevice(sock.get());
    if (!link) return link.status();
    if (!link->get()) return makeError(ErrorCode::kNotFound, std::string(kDevice) + " vanished");
  }
  rtnl_link* l = link->get();
  if (static_cast<int>(rtnl_link_get_mtu(l)) != mtu || !(rtnl_link_get_flags(l) & IFF_UP)) {
    NlLink change(rtnl_link_alloc());
    rtnl_link_set_mtu(change.get(), static_cast<unsigned>(mtu));
    rtnl_link_set_flags(change.get(), IFF_UP);
    if (int err = rtnl_link_change(sock.get(), l, change.get(), 0); err < 0) {
      return nlError(err, std::string("set up ") + kDevice);
    }
  }
  const int ifindex = rtnl_link_get_ifindex(l);
  BRINDLE_ASSIGN_OR_RETURN(auto present, pruneAddresses(sock.get(), ifindex, address));
  if (address && !present) {
    NlRtAddr a(rtnl_addr_alloc());
    NlAddr local(nl_addr_build(AF_INET, address->bytes().data(), 4));
    if (!a.get() || !local.get()) return makeError(ErrorCode::kInternal, "netlink: out of memory");
    nl_addr_set_prefixlen(local.get(), 32);
    rtnl_addr_set_ifindex(a.get(), ifindex);
    rtnl_addr_set_family(a.get(), AF_INET);
    rtnl_addr_set_local(a.get(), local.get());
    if (int err = rtnl_addr_add(sock.get(), a.get(), 0); err < 0 && err != -NLE_EXIST) {
      return nlError(err, "add " + address->toString() + " to " + kDevice);
    }
  }
  return Status::ok();
}

Status releaseIpipDevice(const std::string& netns) {
  BRINDLE_ASSIGN_OR_RETURN(auto sock, openRouteSocket(netns));
  BRINDLE_ASSIGN_OR_RETURN(auto link, findDevice(sock.get()));
  if (!link.get()) return Status::ok();
  auto pruned = pruneAddresses(sock.get(), rtnl_link_get_ifindex(link.get()), std::nullopt);
  if (!pruned) return pruned.status();
  if (rtnl_link_get_flags(link.get()) & IFF_UP) {
    NlLink change(rtnl_link_alloc());
    rtnl_link_unset_flags(change.get(), IFF_UP);
    if (int err = rtnl_link_change(sock.get(), link.get(), change.get(), 0); err < 0) {
      return nlError(err, std::string("set down ") + kDevice);
    }
  }
  return Status::ok();
}

Result<int> mtuOfInterfaceWith(const std::string& netns, const IpAddr& address) {
  BRINDLE_ASSIGN_OR_RETURN(auto sock, openRouteSocket(netns));
  NlCache cache;
  if (int err = rtnl_addr_alloc_cache(sock.get(), cache.out()); err < 0) {
    return nlError(err, "list addresses");
  }
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_family(a) != AF_INET || addrOf(a) != address) continue;
    NlLink link;
    if (int err = rtnl_link_get_kernel(sock.get(), rtnl_addr_get_ifindex(a), nullptr, link.out());
        err < 0) {
      return nlError(err, "find the interface of " + address.toString());
    }
    return static_cast<int>(rtnl_link_get_mtu(link.get()));
  }
  return makeError(ErrorCode::kNotFound, "no interface holds " + address.toString());
}

}  // namespace brindle::os
