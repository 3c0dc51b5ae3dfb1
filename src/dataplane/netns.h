// Network-namespace helpers: run a function on a short-lived thread that has entered a named
// namespace (the namespace is per thread, so the caller's thread never leaves its own).
#pragma once

#include <functional>
#include <string>

#include "common/result.h"

namespace brindle::dataplane {

// "/var/run/netns/<name>".
std::string netnsPath(const std::string& name);

// Runs fn on a new thread inside the namespace (or on this thread when name is empty) and
// returns its Status. Sockets opened by fn stay bound to that namespace after the thread ends.
Status runInNetns(const std::string& name, const std::function<Status()>& fn);

}  // namespace brindle::dataplane
