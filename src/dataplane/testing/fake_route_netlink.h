// FakeRouteNetlink and FakeSysctl: simulators of the kernel's link/route tables and of
// /proc/sys, with failure injection, for RouteTable's unit tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dataplane/route_netlink.h"
#include "os/sysctl.h"

namespace brindle::dataplane::testing {

class FakeRouteNetlink : public RouteNetlink {
 public:
  // Links: adding returns the new index; removing a link drops the routes through it, as the
  // kernel does.
  int addLink(const std::string& name, uint32_t group = 0);
  void removeLink(const std::string& name);
  uint32_t group(const std::string& name) const;  // the link's device group; 0 when absent
  // Routes as the kernel holds them (any protocol), keyed by (table, destination).
  void addRoute(const RouteEntry& route) { routes_[{route.table, route.dest}] = route; }
  std::vector<RouteEntry> routes() const;
  const RouteEntry* find(const Cidr& dest, int table = 254) const;

  void failNextReplace(int count = 1) { failReplaces_ = count; }
  void failNextList(int count = 1) { failLists_ = count; }
  void failNextGroupSet(int count = 1) { failGroupSets_ = count; }
  int writes() const { return writes_; }

  Result<std::vector<LinkInfo>> listLinks() override;
  Status setLinkGroup(int ifindex, uint32_t group) override;
  Result<std::vector<RouteEntry>> listRoutes(int table) override;
  Status replaceRoute(const RouteEntry& route) override;
  Status deleteRoute(const RouteEntry& route) override;

 private:
  std::map<std::string, LinkInfo> links_;
  int nextIndex_ = 10;
  std::map<std::pair<int, Cidr>, RouteEntry> routes_;
  int failReplaces_ = 0, failLists_ = 0, failGroupSets_ = 0, writes_ = 0;
};

class FakeSysctl : public os::SysctlWriter {
 public:
  Status write(const std::vector<os::SysctlSetting>& settings) override;
  std::map<std::string, std::string> values;
  int writes = 0;
};

}  // namespace brindle::dataplane::testing
