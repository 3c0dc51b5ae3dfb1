// The sysctl seam: write /proc/sys values (e.g. "net/ipv4/conf/cali1/proxy_arp" = "1") in a
// given network namespace, where /proc/sys/net shows that namespace's settings.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace brindle::dataplane {

struct SysctlSetting {
  std::string key;  // path under /proc/sys, e.g. "net/ipv4/conf/cali1/proxy_arp"
  std::string value;
  bool optional = false;  // a missing key is fine (e.g. IPv6 disabled)
};

class SysctlWriter {
 public:
  virtual ~SysctlWriter() = default;
  // Writes all settings; returns the first error but tries every setting.
  virtual Status write(const std::vector<SysctlSetting>& settings) = 0;
};
using SysctlWriterPtr = std::unique_ptr<SysctlWriter>;

// Writes under /proc/sys from a thread inside `netns` ("" = this namespace).
class ProcSysctlWriter : public SysctlWriter {
 public:
  explicit ProcSysctlWriter(std::string netns = "", std::string root = "/proc/sys")
      : netns_(std::move(netns)), root_(std::move(root)) {}
  Status write(const std::vector<SysctlSetting>& settings) override;

 private:
  std::string netns_;
  std::string root_;
};

}  // namespace brindle::dataplane
