// The sysctl seam: write /proc/sys values (e.g. "net/ipv4/conf/cali1/proxy_arp" = "1") in a
// given network namespace, where /proc/sys/net shows that namespace's settings; read one back.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace brindle::os {

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

// The value under /proc/sys (its first word) in the calling thread's namespace; "" if unreadable.
std::string readSysctl(const std::string& key, const std::string& root = "/proc/sys");

}  // namespace brindle::os
