// The lab's private etcd (--etcd): its own namespace on subnet 1, data in the state dir; the
// lab's brindlectl calls then run in that namespace with ETCD_ENDPOINTS pointing at it.
#pragma once

#include <string>

#include "lab/lab.h"

namespace brindle::lab {

inline constexpr const char* kEtcd = "etcd";

// Starts etcd at `address` (with prefix) on br1 and waits until it answers (bounded).
Status startEtcd(Lab& lab, const std::string& address, const std::string& gateway);

}  // namespace brindle::lab
