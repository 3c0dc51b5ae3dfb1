// Stateful fakes of the plugin's collaborators (kernel, IPAM, endpoint store) with failure
// injection by operation name, for the ADD/DEL/CHECK and undo tests.
#pragma once

#include <map>
#include <set>
#include <string>

#include "cni/dataplane.h"
#include "cni/endpoint_store.h"
#include "cni/ipam_driver.h"

namespace brindle::cni::testing {

// Fails the named operation (once per arming) with kInternal.
class Failures {
 public:
  void arm(const std::string& op) { armed_.insert(op); }
  Status take(const std::string& op) {
    calls.push_back(op);
    if (armed_.erase(op)) return makeError(ErrorCode::kInternal, "injected failure in " + op);
    return Status::ok();
  }
  std::vector<std::string> calls;

 private:
  std::set<std::string> armed_;
};

class FakeDataplane : public Dataplane {
 public:
  struct Pair {
    std::string netns, ifName;
    bool hostConfigured = false;
    std::vector<IpAddr> addresses;
    std::set<std::string> hostRoutes;
  };
  std::map<std::string, Pair> pairs;  // by host name
  std::set<std::string> namespaces = {"/var/run/netns/w1", "/var/run/netns/w2"};
  Failures failures;

  Status createVeth(const VethSpec& s) override {
    if (Status st = failures.take("createVeth"); !st) return st;
    if (!namespaces.count(s.netns)) return makeError(ErrorCode::kNotFound, "no netns");
    if (pairs.count(s.hostName)) return makeError(ErrorCode::kAlreadyExists, "exists");
    Pair p;
    p.netns = s.netns;
    p.ifName = s.containerName;
    pairs[s.hostName] = p;
    return Status::ok();
  }
  Status configureHostSide(const std::string& host, bool) override {
    if (Status st = failures.take("configureHostSide"); !st) return st;
    pairs.at(host).hostConfigured = true;
    return Status::ok();
  }
  Result<std::string> configureContainerSide(const std::string& netns, const std::string& ifName,
                                             const std::vector<IpAddr>& addrs) override {
    if (Status st = failures.take("configureContainerSide"); !st) return st.error();
    for (auto& [name, p] : pairs) {
      if (p.netns == netns && p.ifName == ifName) {
        p.addresses = addrs;
        return std::string("02:00:00:00:00:01");
      }
    }
    return makeError(ErrorCode::kNotFound, "no link");
  }
  Status addHostRoute(const IpAddr& a, const std::string& host) override {
    if (Status st = failures.take("addHostRoute"); !st) return st;
    pairs.at(host).hostRoutes.insert(a.toString());
    return Status::ok();
  }
  Status deleteHostLink(const std::string& host) override {
    if (Status st = failures.take("deleteHostLink"); !st) return st;
    return pairs.erase(host) ? Status::ok() : Status(makeError(ErrorCode::kNotFound, "absent"));
  }
  Status deleteContainerLink(const std::string&, const std::string&) override {
    return Status::ok();
  }
  Result<LinkView> inspectHost(const std::string& host) override {
    auto it = pairs.find(host);
    if (it == pairs.end()) return makeError(ErrorCode::kNotFound, "absent");
    LinkView v;
    v.mac = kHostMac;
    v.up = it->second.hostConfigured;
    v.sysctls = {"proxy_arp=1", "forwarding=1", "proxy_delay=0"};
    for (const auto& r : it->second.hostRoutes) {
      const bool v4 = r.find(':') == std::string::npos;
      v.routes.push_back(r + (v4 ? "/32" : "/128") + " dev " + host + (v4 ? " scope link" : ""));
    }
    return v;
  }
  Result<LinkView> inspectContainer(const std::string& netns, const std::string& ifName) override {
    for (auto& [name, p] : pairs) {
      if (p.netns != netns || p.ifName != ifName) continue;
      LinkView v;
      v.mac = "02:00:00:00:00:01";
      v.mtu = 1500;
      v.up = true;
      for (const auto& a : p.addresses) {
        v.addresses.push_back(Cidr::parse(a.toString()).value());
      }
      v.routes = {"169.254.1.1/32 dev " + ifName + " scope link",
                  "default via 169.254.1.1 dev " + ifName};
      v.neighbours = {"169.254.1.1 lladdr ee:ee:ee:ee:ee:ee PERMANENT"};
      return v;
    }
    return makeError(ErrorCode::kNotFound, "absent");
  }
};

class FakeIpam : public IpamDriver {
 public:
  std::map<std::string, std::vector<IpAddr>> handles;
  int next = 1;
  Failures failures;

  Result<std::vector<IpConfig>> assign(const IpamRequest& r) override {
    if (Status st = failures.take("assign"); !st) return st.error();
    IpAddr ip = IpAddr::parse("10.0.0." + std::to_string(next++)).value();
    handles[r.handle].push_back(ip);
    return std::vector<IpConfig>{{ip, 32, std::nullopt, -1}};
  }
  Status release(const IpamRequest& r) override {
    if (Status st = failures.take("release"); !st) return st;
    handles.erase(r.handle);
    return Status::ok();
  }
  Status check(const IpamRequest& r, const std::vector<IpAddr>& ips) override {
    auto it = handles.find(r.handle);
    if (it == handles.end() || it->second != ips) return makeError(ErrorCode::kNotFound, "no");
    return Status::ok();
  }
};

class FakeEndpoints : public EndpointStore {
 public:
  std::map<std::string, model::Resource> items;  // "ns/name"
  std::set<std::string> corrupt;                 // "ns/name" of stored values nobody can read
  Failures failures;

  Status put(const model::Resource& r) override {
    if (Status st = failures.take("put"); !st) return st;
    items[r.ns() + "/" + r.name()] = r;
    return Status::ok();
  }
  Result<model::Resource> get(const std::string& ns, const std::string& name) override {
    if (Status st = failures.take("get"); !st) return st.error();
    if (corrupt.count(ns + "/" + name)) return makeError(ErrorCode::kCorrupt, "not JSON");
    auto it = items.find(ns + "/" + name);
    if (it == items.end()) return makeError(ErrorCode::kNotFound, "absent");
    return it->second;
  }
  Status remove(const std::string& ns, const std::string& name) override {
    if (Status st = failures.take("remove"); !st) return st;
    return items.erase(ns + "/" + name) + corrupt.erase(ns + "/" + name)
               ? Status::ok()
               : Status(makeError(ErrorCode::kNotFound, "absent"));
  }
};

}  // namespace brindle::cni::testing
