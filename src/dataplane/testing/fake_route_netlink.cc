// The route/link and sysctl simulators.
#include "dataplane/testing/fake_route_netlink.h"

namespace brindle::dataplane::testing {

int FakeRouteNetlink::addLink(const std::string& name, uint32_t group) {
  links_[name] = {name, nextIndex_, group};
  return nextIndex_++;
}

uint32_t FakeRouteNetlink::group(const std::string& name) const {
  auto it = links_.find(name);
  return it == links_.end() ? 0 : it->second.group;
}

void FakeRouteNetlink::removeLink(const std::string& name) {
  auto it = links_.find(name);
  if (it == links_.end()) return;
  int index = it->second.index;
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
  for (const auto& [name, link] : links_) out.push_back(link);
  return out;
}

Status FakeRouteNetlink::setLinkGroup(int ifindex, uint32_t group) {
  ++writes_;
  if (failGroupSets_ > 0) {
    --failGroupSets_;
    return makeError(ErrorCode::kUnavailable, "injected group set failure");
  }
  for (auto& [name, link] : links_) {
    if (link.index != ifindex) continue;
    link.group = group;
    return Status::ok();
  }
  return makeError(ErrorCode::kNotFound, "No such device");
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
    for (const auto& [name, link] : links_) found = found || link.index == route.ifindex;
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
