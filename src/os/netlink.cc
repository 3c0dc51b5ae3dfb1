// The libnl error mapping and route sockets; see netlink.h.
#include "os/netlink.h"

#include <linux/netlink.h>

#include "os/netns.h"

namespace brindle::os {

Error nlError(int err, const std::string& what) {
  ErrorCode code = ErrorCode::kInternal;
  if (err == -NLE_EXIST) code = ErrorCode::kAlreadyExists;
  if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) code = ErrorCode::kNotFound;
  if (err == -NLE_AGAIN || err == -NLE_BUSY || err == -NLE_INTR || err == -NLE_DUMP_INTR) {
    code = ErrorCode::kUnavailable;
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
