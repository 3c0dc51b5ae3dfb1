// A generator of random clusters for explain's tests: tiers, policies (global and namespaced,
// ordered or not, types, Allow/Deny/Pass/Log, protocols, ports and notPorts, ICMP, selectors,
// notSelectors, namespaceSelectors, nets and notNets), profiles and a network set.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "explain/scenario.h"  // tests/explain

namespace brindle::explain::testing {

class Gen {
 public:
  explicit Gen(unsigned seed) : rng_(seed) {}
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool coin(int percent = 50) { return pick(100) < percent; }
  template <typename T>
  const T& of(const std::vector<T>& v) {
    return v[static_cast<size_t>(pick(static_cast<int>(v.size())))];
  }

  std::string selector() {
    return of<std::string>({"all()", "app == 'a'", "app == 'b'", "app in {'a', 'c'}", "has(app)",
                            "!has(tier)", "tier == 'x'", "app != 'b'"});
  }

  std::string ports() {
    return of<std::string>({"[80]", "[443, 53]", "[\"1:100\"]", "[\"400:500\", 80]"});
  }

  std::string entity(bool ports) {
    std::string e;
    if (coin(40)) e += "selector: \"" + selector() + "\", ";
    if (coin(15)) e += "notSelector: \"" + selector() + "\", ";
    if (coin(15)) {
      e += of<std::string>({"namespaceSelector: \"projectcalico.org/name == 'ns1'\", ",
                            "namespaceSelector: \"all()\", ", "namespaceSelector: global(), "});
    }
    if (coin(20))
      e += "nets: [" +
           of<std::string>(
               {"10.0.0.0/24", "10.0.1.0/24, 10.0.0.1/32", "192.0.2.0/24", "10.0.0.0/16"}) +
           "], ";
    if (coin(15))
      e += "notNets: [" + of<std::string>({"10.0.0.0/25", "10.0.1.0/24, 192.0.2.0/25"}) + "], ";
    if (ports && coin(40)) e += "ports: " + this->ports() + ", ";
    if (ports && coin(15)) e += "notPorts: " + this->ports() + ", ";
    return "{" + e + "}";
  }

  std::string rule() {
    std::string r =
        "  - action: " + of<std::string>({"Allow", "Allow", "Deny", "Pass", "Log"}) + "\n";
    const int proto = pick(5);  // none, TCP, UDP, ICMP, 47
    if (proto == 1) r += "    protocol: TCP\n";
    if (proto == 2) r += "    protocol: UDP\n";
    if (proto == 3) r += "    protocol: ICMP\n";
    if (proto == 4) r += "    protocol: 47\n";
    if (proto == 3 && coin())
      r += "    icmp: {type: 8" + std::string(coin() ? ", code: 0" : "") + "}\n";
    if (proto == 0 && coin(15)) r += "    notProtocol: UDP\n";
    const bool ports = proto == 1 || proto == 2;
    r += "    source: " + entity(false) + "\n";
    r += "    destination: " + entity(ports) + "\n";
    return r;
  }

  std::string rules(const char* dir) {
    std::string out = std::string("  ") + dir + ":\n";
    const int n = 1 + pick(3);
    for (int i = 0; i < n; ++i) out += rule();
    return out;
  }

  std::string policy(int i) {
    const bool ns = coin(40);
    const std::string tier = coin(40) ? "t1" : "default";
    std::string name = (tier == "default" ? "" : "t1.") + std::string("p") + std::to_string(i);
    std::string p = "apiVersion: projectcalico.org/v3\nkind: " +
                    std::string(ns ? "NetworkPolicy" : "GlobalNetworkPolicy") +
                    "\nmetadata: {name: " + name + (ns ? ", namespace: ns1" : "") + "}\nspec:\n";
    p += "  tier: " + tier + "\n";
    if (coin(70)) p += "  order: " + std::to_string(pick(5) * 10) + "\n";
    p += "  selector: \"" + selector() + "\"\n";
    const int types = pick(4);  // default, Ingress, Egress, both
    if (types == 1) p += "  types: [Ingress]\n";
    if (types == 2) p += "  types: [Egress]\n";
    if (types == 3) p += "  types: [Ingress, Egress]\n";
    if (types != 2 && coin(80)) p += rules("ingress");
    if (types != 1 && (types != 0 || coin(50)) && coin(80)) p += rules("egress");
    return p + "---\n";
  }

 private:
  std::mt19937 rng_;
};

// Six workloads w0..w5 (interfaces caliw0..caliw5, 10.0.0.1-3 on `node1`, 10.0.1.4-6 on
// `node2`, namespaces ns1/ns2, apps a/b/c, profiles pr1/pr2 with labelsToApply), a tier t1 and
// 2-7 policies, all drawn from `seed`.
inline std::vector<model::Resource> generate(unsigned seed, const std::string& node1 = "n1",
                                             const std::string& node2 = "n2") {
  Gen g(seed);
  std::vector<model::Resource> out;
  auto add = [&](const std::string& yaml) {
    auto r = model::decodeResources(yaml, "gen");
    if (r) out.insert(out.end(), r->resources.begin(), r->resources.end());
  };
  const std::vector<std::string> apps = {"a", "b", "c"};
  for (int i = 0; i < 6; ++i) {
    std::string labels = "app: " + apps[i % 3];
    if (i == 4) labels += ", tier: x";
    add(testing::workload(i < 3 ? node1 : node2, i % 2 ? "ns1" : "ns2", "w" + std::to_string(i),
                          "caliw" + std::to_string(i),
                          "10.0." + std::to_string(i / 3) + "." + std::to_string(i + 1), labels,
                          i == 5 ? "" : (i % 2 ? "pr1" : "pr1, pr2")));
  }
  add("apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t1}\nspec: {order: 5, "
      "defaultAction: " +
      std::string(g.coin() ? "Pass" : "Deny") + "}\n");
  add("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: gs, labels: "
      "{app: c}}\nspec: {nets: [192.0.2.0/24]}\n");
  for (const char* name : {"pr1", "pr2"}) {
    add("apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: " + std::string(name) +
        "}\nspec:\n  labelsToApply: {tier: x}\n" + g.rules("ingress") + g.rules("egress"));
  }
  const int policies = 2 + g.pick(6);
  for (int i = 0; i < policies; ++i) add(g.policy(i));
  return out;
}

}  // namespace brindle::explain::testing
