// setns(2) on a helper thread; see netns.h.
#include "os/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace brindle::os {

std::string netnsPath(const std::string& netns) {
  return netns.find('/') == std::string::npos ? "/var/run/netns/" + netns : netns;
}

Result<int> openNetns(const std::string& netns) {
  int fd = ::open(netnsPath(netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return makeError(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kInternal,
                     "network namespace " + netns + ": " + std::strerror(errno));
  }
  return fd;
}

Status runInNetns(const std::string& netns, const std::function<Status()>& fn) {
  if (netns.empty()) return fn();
  BRINDLE_ASSIGN_OR_RETURN(auto fd, openNetns(netns));
  Status result;
  std::thread worker([&] {
    if (::setns(fd, CLONE_NEWNET) != 0) {
      result = makeError(ErrorCode::kInternal, "setns " + netns + ": " + std::strerror(errno));
      return;
    }
    result = fn();
  });
  worker.join();
  ::close(fd);
  return result;
}

}  // namespace brindle::os
