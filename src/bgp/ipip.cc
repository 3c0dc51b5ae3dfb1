#include "bgp/ipip.h"

#include <algorithm>

#include "model/bgp_views.h"
#include "model/views.h"

namespace brindle::bgp {

std::vector<IpipPool> ipipPools(const Inputs& in) {
  std::vector<IpipPool> out;
  for (const auto& pool : in.pools) {
    auto view = model::ipPoolView(pool);
    if (!view || view->disabled || !view->cidr.isV4()) continue;
    if (view->ipipMode == "Always" || view->ipipMode == "CrossSubnet") {
      out.push_back({view->cidr, view->ipipMode == "CrossSubnet"});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const IpipPool& a, const IpipPool& b) { return a.cidr < b.cidr; });
  return out;
}

bool encapsulated(const std::vector<IpipPool>& pools, const std::optional<Cidr>& subnet,
                  const Cidr& destination, const IpAddr& remote) {
  for (const auto& pool : pools) {
    if (!pool.cidr.contains(destination)) continue;
    return !pool.crossSubnet || !subnet || !subnet->contains(remote);
  }
  return false;
}

std::optional<Cidr> subnetOf(const model::NodeBgpView& node) {
  if (!node.ipv4) return std::nullopt;
  auto net = Cidr::parse(node.ipv4->ip.toString() + "/" + std::to_string(node.ipv4->prefixLength));
  if (!net) return std::nullopt;
  return *net;
}

Result<IpipPlan> planIpip(const Inputs& in, const std::string& node) {
  IpipPlan plan;
  bool found = false;
  std::vector<std::pair<std::string, IpAddr>> remotes;  // other nodes with an IPv4 address
  for (const auto& r : in.nodes) {
    auto view = model::nodeBgpView(r);
    if (!view) continue;
    if (view->name == node) {
      found = true;
      plan.subnet = subnetOf(*view);
      plan.tunnelAddress = view->ipipTunnelAddr;
    } else if (view->ipv4) {
      remotes.emplace_back(view->name, view->ipv4->ip);
    }
  }
  if (!found) return makeError(ErrorCode::kNotFound, "node does not exist: " + node);
  plan.pools = ipipPools(in);
  if (!plan.needed()) return plan;
  // What each remote node announces (its blocks, its workloads outside them) goes through the
  // tunnel when its pool says so.
  for (const auto& [name, ip] : remotes) {
    auto blocks = affineBlocks(in, name, 4);
    auto hosts = borrowedHosts(in, name, 4);
    for (const auto* list : {&blocks, &hosts}) {
      for (const Cidr& dest : *list) {
        if (encapsulated(plan.pools, plan.subnet, dest, ip)) plan.routes.push_back({dest, ip});
      }
    }
  }
  std::sort(plan.routes.begin(), plan.routes.end(), [](const TunnelRoute& a, const TunnelRoute& b) {
    return a.destination < b.destination;
  });
  return plan;
}

}  // namespace brindle::bgp
