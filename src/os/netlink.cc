// The libnl error mapping and route sockets; see netlink.h.
#include "os/netlink.h"

#include <linux/netlink.h>

#include "os/netns.h"

namespace brindle::os {

Error nlError(int err, const std::string& what) {
  ErrorCode code = ErrorCode::kInternal;
  switch (-err) {
    case NLE_EXIST:
      code = ErrorCode::kAlreadyExists;
      break;
    case NLE_NODEV:
    case NLE_OBJ_NOTFOUND:
      code = ErrorCode::kNotFound;
      break;
    case NLE_AGAIN:
    case NLE_BUSY:
    case NLE_INTR:
    case NLE_DUMP_INTR:
      code = ErrorCode::kUnavailable;
      break;
  }
  return makeError(code, what + ": " + nl_geterror(err));
}

Result<NlSock> openRouteSocket(const std::string& netns) {
  NlSock sock;
  Status opened = runInNetns(netns, [&sock]() -> Status {
    NlSock s(nl_socket_alloc());
    if (!s.get()) return makeError(ErrorCode::kInternal, "netlink: out of memory");
    if (int err = nl_connect(s.get(), NETLINK_ROUTE); err < 0) {
      return nlError(err, "netlink: connect");
    }
    sock = std::move(s);
    return Status::ok();
  });
  if (!opened) return opened;
  return sock;
}

}  // namespace brindle::os
