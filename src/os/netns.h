// Network-namespace entry. The namespace is per thread: work runs on a short-lived thread that
// entered it, so the caller's thread never leaves its own namespace.
#pragma once

#include <functional>
#include <string>

#include "common/result.h"

namespace brindle::os {

// A namespace is named as `ip netns` names it ("blue" is /var/run/netns/blue) or given as a path
// (CNI_NETNS, /proc/<pid>/ns/net); "" is the caller's own namespace.
std::string netnsPath(const std::string& netns);

// An O_CLOEXEC descriptor of the namespace, for setns(2) or rtnl_link_set_ns_fd; the caller
// closes it. kNotFound when it does not exist.
Result<int> openNetns(const std::string& netns);

// Runs fn on a new thread inside the namespace (on this thread when netns is "") and returns its
// Status. Sockets opened by fn stay bound to that namespace after the thread ends.
Status runInNetns(const std::string& netns, const std::function<Status()>& fn);

}  // namespace brindle::os
