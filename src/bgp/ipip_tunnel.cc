#include "bgp/ipip_tunnel.h"

#include <algorithm>

#include "ipam/ipam.h"
#include "model/bgp_views.h"
#include "os/ipip_device.h"
#include "resources/resource_store.h"

namespace brindle::bgp {
namespace {

constexpr int kIpipOverhead = 20;   // the outer IPv4 header
constexpr int kFallbackMtu = 1500;  // when no interface holds the node's address

std::string handleOf(const std::string& node) { return "ipip-tunnel-addr-" + node; }

const model::Resource* findNode(const Inputs& in, const std::string& name) {
  for (const auto& r : in.nodes) {
    if (r.name() == name) return &r;
  }
  return nullptr;
}

bool inAnyPool(const std::vector<IpipPool>& pools, const IpAddr& ip) {
  return std::any_of(pools.begin(), pools.end(),
                     [&](const IpipPool& p) { return p.cidr.contains(ip); });
}

}  // namespace

IpipTunnel::IpipTunnel(datastore::Client& client, IpipOptions options)
    : client_(client), options_(std::move(options)), sysctl_(options_.netns) {}

IpipTunnel::~IpipTunnel() = default;

Result<std::optional<IpAddr>> IpipTunnel::tunnelAddress(const Inputs& inputs,
                                                        const IpipPlan& plan) {
  auto ipam = ipam::makeIpam(client_);
  const std::string handle = handleOf(options_.node);
  const std::map<std::string, std::string> attrs = {{"node", options_.node},
                                                    {"type", "ipipTunnelAddress"}};
  // Keep an address that is still in an IPIP pool and ours in IPAM (claim it if it is free).
  if (plan.tunnelAddress && inAnyPool(plan.pools, *plan.tunnelAddress)) {
    auto owner = ipam->getAllocation(*plan.tunnelAddress);
    if (owner && owner->handle == handle) return plan.tunnelAddress;
    if (!owner && owner.code() == ErrorCode::kNotFound &&
        ipam->assignIp(*plan.tunnelAddress, handle, options_.node, attrs).isOk()) {
      return plan.tunnelAddress;
    }
  }
  if (auto released = ipam->releaseByHandle(handle); !released) return released.error();
  ipam::AssignArgs args;
  args.handle = handle;
  args.node = options_.node;
  args.attributes = attrs;
  for (const auto& pool : plan.pools) args.ipv4Pools.push_back(pool.cidr.toString());
  auto assigned = ipam->autoAssign(args);
  if (!assigned) return assigned.error();
  if (assigned->ipv4.empty()) return makeError(ErrorCode::kUnavailable, "no address assigned");
  const IpAddr ip = assigned->ipv4.front().address();

  const model::Resource* self = findNode(inputs, options_.node);
  if (self == nullptr) return makeError(ErrorCode::kNotFound, "node does not exist");
  model::Resource updated = *self;
  updated.spec["bgp"]["ipv4IPIPTunnelAddr"] = ip.toString();
  resources::ResourceStore store(client_);
  if (auto written = store.write(resources::WriteMode::kReplace, {updated}); !written) {
    (void)ipam->releaseByHandle(handle);  // the next round tries again
    return written.error();
  }
  return std::optional<IpAddr>(ip);
}

Status IpipTunnel::releaseTunnelAddress(const Inputs& inputs, const IpipPlan& plan) {
  if (!plan.tunnelAddress) return Status::ok();
  auto ipam = ipam::makeIpam(client_);
  if (auto released = ipam->releaseByHandle(handleOf(options_.node)); !released) {
    return released.error();
  }
  const model::Resource* self = findNode(inputs, options_.node);
  if (self == nullptr) return Status::ok();
  model::Resource updated = *self;
  updated.spec["bgp"].erase("ipv4IPIPTunnelAddr");
  resources::ResourceStore store(client_);
  auto written = store.write(resources::WriteMode::kReplace, {updated});
  return written ? Status::ok() : Status(written.error());
}

Status IpipTunnel::applyRoutes(const std::vector<TunnelRoute>& routes) {
  if (!routes_) {
    BRINDLE_ASSIGN_OR_RETURN(netlink_, dataplane::openLibnlRouteNetlink(options_.netns));
    dataplane::RouteTableOptions ropts;
    ropts.protocol = kTunnelRouteProtocol;
    ropts.ipv6 = false;
    ropts.sweepLinkGroups = false;  // the agent's table owns the workloads' device groups
    routes_ = std::make_unique<dataplane::RouteTable>(*netlink_, sysctl_, ropts);
  }
  // What is no longer wanted leaves the wish list; RouteTable's sweep removes it from the kernel.
  for (const Cidr& dest : wanted_) routes_->removeTunnelRoute(dest);
  wanted_.clear();
  for (const auto& r : routes) {
    routes_->setTunnelRoute(r.destination, kIpipDevice, r.via);
    wanted_.insert(r.destination);
  }
  return routes_->apply();
}

void IpipTunnel::step(const Inputs& inputs, std::vector<std::string>& problems) {
  auto plan = planIpip(inputs, options_.node);
  if (!plan) return;  // no Node: a policy-only node
  auto note = [&](const std::string& what, const Status& s) {
    if (!s.isOk()) problems.push_back("IPIP: " + what + ": " + s.error().message);
  };
  if (!plan->needed()) {
    note("release the tunnel address", releaseTunnelAddress(inputs, *plan));
    if (clean_) return;  // nothing of ours left in the kernel
    // Once after start (an earlier agent may have left some) and after IPIP was in use.
    Status device = os::releaseIpipDevice(options_.netns);
    Status routes = applyRoutes({});
    note("release tunl0", device);
    note("routes", routes);
    clean_ = device.isOk() && routes.isOk();
    return;
  }
  clean_ = false;
  auto address = tunnelAddress(inputs, *plan);
  note("tunnel address", address.status());
  int mtu = options_.mtu;
  if (mtu <= 0) {
    mtu = kFallbackMtu - kIpipOverhead;
    auto self = std::find_if(inputs.nodes.begin(), inputs.nodes.end(),
                             [&](const auto& r) { return r.name() == options_.node; });
    if (auto view = model::nodeBgpView(*self); view && view->ipv4) {
      if (auto uplink = os::mtuOfInterfaceWith(options_.netns, view->ipv4->ip)) {
        mtu = *uplink - kIpipOverhead;
      }
    }
  }
  Status device =
      os::ensureIpipDevice(options_.netns, mtu, address ? *address : std::optional<IpAddr>());
  note("tunl0", device);
  note("routes", applyRoutes(plan->routes));
}

void IpipTunnel::withdraw() { (void)applyRoutes({}); }

}  // namespace brindle::bgp
