// setns(2) on a helper thread; see netns.h.
#include "dataplane/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace brindle::dataplane {

std::string netnsPath(const std::string& name) { return "/var/run/netns/" + name; }

Status runInNetns(const std::string& name, const std::function<Status()>& fn) {
  if (name.empty()) return fn();
  Status result;
  std::thread worker([&] {
    int fd = ::open(netnsPath(name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result = makeError(ErrorCode::kNotFound,
                         "netns " + name + ": " + std::string(std::strerror(errno)));
      return;
    }
    int rc = ::setns(fd, CLONE_NEWNET);
    int savedErrno = errno;
    ::close(fd);
    if (rc != 0) {
      result = makeError(ErrorCode::kInternal,
                         "setns " + name + ": " + std::string(std::strerror(savedErrno)));
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

}  // namespace brindle::dataplane
