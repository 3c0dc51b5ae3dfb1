// libnl-3 for the dataplane and the CNI plugin: owned objects, a NETLINK_ROUTE socket in a given
// namespace, and the one mapping from libnl's errors to ours.
#pragma once

#include <string>
#include <utility>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include "common/result.h"

namespace brindle::os {

// Owns one reference to a libnl object; Free drops it (libnl objects are reference counted).
template <typename T, void (*Free)(T*)>
class NlOwned {
 public:
  NlOwned() = default;
  explicit NlOwned(T* p) : p_(p) {}
  ~NlOwned() {
    if (p_) Free(p_);
  }
  NlOwned(NlOwned&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  NlOwned& operator=(NlOwned&& o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  T* get() const { return p_; }
  // For libnl's T** out-parameters; call on an empty NlOwned only.
  T** out() { return &p_; }

 private:
  T* p_ = nullptr;
};
using NlSock = NlOwned<nl_sock, nl_socket_free>;
using NlAddr = NlOwned<nl_addr, nl_addr_put>;
using NlCache = NlOwned<nl_cache, nl_cache_free>;
using NlLink = NlOwned<rtnl_link, rtnl_link_put>;
using NlRoute = NlOwned<rtnl_route, rtnl_route_put>;
using NlNeigh = NlOwned<rtnl_neigh, rtnl_neigh_put>;
using NlRtAddr = NlOwned<rtnl_addr, rtnl_addr_put>;

// libnl's negative error `err` as an Error: an object that exists is kAlreadyExists, a missing
// one kNotFound, a busy or interrupted kernel kUnavailable (worth a retry), anything else
// kInternal. The message is "<what>: <libnl's text>".
Error nlError(int err, const std::string& what);

// A NETLINK_ROUTE socket connected inside `netns` (netns.h; "" = the calling thread's own); it
// keeps talking to that namespace for its whole life.
Result<NlSock> openRouteSocket(const std::string& netns = "");

}  // namespace brindle::os
