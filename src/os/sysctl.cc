// ProcSysctlWriter: plain file writes, done on a thread that entered the namespace because
// /proc/sys/net resolves against the writing thread's namespace.
#include "os/sysctl.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "os/netns.h"

namespace brindle::os {

Status ProcSysctlWriter::write(const std::vector<SysctlSetting>& settings) {
  return runInNetns(netns_, [&]() -> Status {
    Status first;
    for (const auto& setting : settings) {
      std::string path = root_ + "/" + setting.key;
      int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) {
        if (errno == ENOENT && setting.optional) continue;
        if (first.isOk()) {
          first = makeError(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kInternal,
                            "sysctl " + setting.key + ": " + std::strerror(errno));
        }
        continue;
      }
      ssize_t n = ::write(fd, setting.value.data(), setting.value.size());
      int savedErrno = errno;
      ::close(fd);
      if (n != static_cast<ssize_t>(setting.value.size()) && first.isOk()) {
        first = makeError(ErrorCode::kInternal,
                          "sysctl " + setting.key + ": " + std::strerror(savedErrno));
      }
    }
    return first;
  });
}

std::string readSysctl(const std::string& key, const std::string& root) {
  std::ifstream file(root + "/" + key);
  std::string value;
  file >> value;
  return value;
}

}  // namespace brindle::os
