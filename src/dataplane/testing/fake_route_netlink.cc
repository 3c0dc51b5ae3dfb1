// The route/link and sysctl simulators.
#include "dataplane/testing/fake_route_netlink.h"

namespace brindle::dataplane::testing {

int FakeRouteNetlink::addLink(const std::string& name) {
  links_[name] = nextIndex_;
  return nextIndex_++;
}

void FakeRouteNetlink::removeLink(const std::string& name) {
  auto it = links_.find(name);
  if (it == links_.end()) return;
  int index = it->second;
  links_.erase(it);
  for (auto r = routes_.begin(); r != routes_.end();) {
    r = (!r->second.blackhole && r->second.ifindex == index) ? routes_.erase(r) : std::next(r);
  }
}

std::vector<RouteEntry> FakeRouteNetlink::routes() const {
  std::vector<RouteEntry> out;
  for (const auto& [key, route] : routes_) out.push_back(route);
  return out;
}

const RouteEntry* FakeRouteNetlink::find(const Cidr& dest, int table) const {
  auto it = routes_.find({table, dest});
  return it == routes_.end() ? nullptr : &it->second;
}

Result<std::vector<LinkInfo>> FakeRouteNetlink::listLinks() {
  if (failLists_ > 0) {
    --failLists_;
    return makeError(ErrorCode::kUnavailable, "injected list failure");
  }
  std::vector<LinkInfo> out;
  for (const auto& [name, index] : links_) out.push_back({name, index});
  return out;
}

Result<std::vector<RouteEntry>> FakeRouteNetlink::listRoutes(int table) {
  std::vector<RouteEntry> out;
  for (const auto& [key, route] : routes_) {
    if (key.first == table) out.push_back(route);
  }
  return out;
}

Status FakeRouteNetlink::replaceRoute(const RouteEntry& route) {
  ++writes_;
  if (failReplaces_ > 0) {
    --failReplaces_;
    return makeError(ErrorCode::kUnavailable, "injected replace failure");
  }
  if (!route.blackhole) {
    bool found = false;
    for (const auto& [name, index] : links_) found = found || index == route.ifindex;
    if (!found) return makeError(ErrorCode::kNotFound, "No such device");
  }
  routes_[{route.table, route.dest}] = route;
  return Status::ok();
}

Status FakeRouteNetlink::deleteRoute(const RouteEntry& route) {
  ++writes_;
  routes_.erase({route.table, route.dest});
  return Status::ok();
}

Status FakeSysctl::write(const std::vector<os::SysctlSetting>& settings) {
  ++writes;
  for (const auto& s : settings) values[s.key] = s.value;
  return Status::ok();
}

}  // namespace brindle::dataplane::testing
