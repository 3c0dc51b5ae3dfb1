// Router configurations. Sessions are `direct` (every peer is on a bridge the router is on).
// Route reflectors behave as a Calico node with routeReflectorClusterID would: every node is a
// client, the reflectors of one cluster peer with each other, and BGP routes go to the kernel
// (as every router's do). ToRs reflect
// for their rack's nodes in as-per-rack (one AS per rack: the nodes are iBGP clients) and give
// them routes learned over eBGP with themselves as next hop. Downward Default: the core
// originates a default and sends only that down; ToRs send only the default to their nodes and
// everything else up.
#include "lab/fabric_bird.h"

namespace brindle::lab {
namespace {

constexpr const char* kDefault = "0.0.0.0/0";

struct Session {
  std::string name;
  std::string local;
  uint32_t localAs;
  std::string neighbor;
  uint32_t as;
  std::string exportRule;  // "all", "none" or "where ..."
  std::string extra;       // rr client, next hop self, ...
};

std::string render(const Session& s) {
  return "protocol bgp " + s.name + " {\n  local " + s.local + " as " + std::to_string(s.localAs) +
         ";\n  neighbor " + s.neighbor + " as " + std::to_string(s.as) +
         ";\n  direct;\n  connect delay time 1;\n  connect retry time 2;\n  error wait time "
         "1,5;\n" +
         s.extra + "  ipv4 { import all; export " + s.exportRule + "; };\n}\n";
}

// The device's address on `bridge`.
std::string on(const Device& d, const std::string& bridge) {
  for (const auto& l : d.links) {
    if (l.bridge == bridge) return l.address;
  }
  return "";
}

}  // namespace

std::string routerBird(const Layout& layout, const Device& r) {
  const std::string& t = layout.options.name;
  const bool downward = t == "downward-default";
  std::string conf = "# BIRD of lab " + std::string(roleName(r.role)) + " " + r.name + " (" + t +
                     "), rendered by brindle-lab.\nrouter id " + r.address() +
                     ";\nlog stderr { info, remote, warning, error, auth, fatal, bug };\n"
                     "protocol device { scan time 2; }\n";
  // The core's own default (Downward Default) stays out of its kernel: what it does not know
  // dies there.
  conf +=
      "protocol kernel {\n  ipv4 { import none; export where source = RTS_BGP; };\n"
      "  merge paths on;\n}\n";
  if (r.role == Role::kCore && downward) {
    conf += "protocol static default_route {\n  ipv4;\n  route " + std::string(kDefault) +
            " unreachable;\n}\n";
  }
  std::vector<Session> sessions;
  for (const auto& d : layout.devices) {
    if (&d == &r) continue;
    if (r.role == Role::kRr && d.role == Role::kNode) {
      const std::string peer = on(d, r.links[0].bridge);
      const std::string cluster = t == "rr" ? kRrClusterId : r.address();
      sessions.push_back({d.name, r.address(), r.as, peer, d.as, "all",
                          "  rr client;\n  rr cluster id " + cluster + ";\n"});
    } else if (r.role == Role::kRr && d.role == Role::kRr && t == "rr") {
      sessions.push_back({d.name, r.address(), r.as, d.address(), d.as, "all",
                          "  rr cluster id " + std::string(kRrClusterId) + ";\n"});
    } else if (r.role == Role::kTor && d.role == Role::kNode && d.rack == r.rack) {
      Session s{d.name,      r.address(), r.as,
                d.address(), d.as,        downward ? "where net = " + std::string(kDefault) : "all",
                ""};
      if (d.as == r.as) {
        s.extra = "  rr client;\n  rr cluster id " + r.address() + ";\n";
        s.exportRule = s.exportRule == "all" ? "all; next hop self ebgp"
                                             : s.exportRule + "; next hop self ebgp";
      }
      sessions.push_back(s);
    } else if (r.role == Role::kTor && d.role == Role::kTor && !layout.options.core) {
      Session s{d.name, on(r, "brcore"), r.as, on(d, "brcore"), d.as, "all", ""};
      if (d.as == r.as) s.exportRule = "all; next hop self";  // iBGP: the ToRs' own racks
      sessions.push_back(s);
    } else if (r.role == Role::kTor && d.role == Role::kCore) {
      sessions.push_back({d.name, on(r, "brcore"), r.as, d.address(), d.as,
                          downward ? "where net != " + std::string(kDefault) : "all", ""});
    } else if (r.role == Role::kCore && d.role == Role::kTor) {
      sessions.push_back({d.name, r.address(), r.as, on(d, "brcore"), d.as,
                          downward ? "where net = " + std::string(kDefault) : "all", ""});
    }
  }
  for (const auto& s : sessions) conf += render(s);
  return conf;
}

int sessionsOf(const Layout& layout, const Device& d) {
  if (d.role != Role::kNode) {
    const std::string conf = routerBird(layout, d);
    int n = 0;
    for (size_t at = conf.find("protocol bgp "); at != std::string::npos;
         at = conf.find("protocol bgp ", at + 1)) {
      ++n;
    }
    return n;
  }
  const std::string& t = layout.options.name;
  if (t == "mesh") return layout.options.racks * layout.options.nodesPerRack - 1;
  if (t == "rr") return layout.options.rrs;
  if (t == "ecmp-fabric") return kEcmpPlanes;
  return 1;  // its ToR
}

std::string fabricResources(const Layout& layout) {
  const std::string& t = layout.options.name;
  std::string yaml =
      "apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\n"
      "spec:\n  asNumber: " +
      std::to_string(kLabAs) + "\n  nodeToNodeMeshEnabled: " + (t == "mesh" ? "true" : "false") +
      "\n";
  auto peer = [&](const std::string& peerName, const Device& router, const std::string& extra) {
    yaml += "---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: " + peerName +
            "\nspec:\n  peerIP: " + router.address() +
            "\n  asNumber: " + std::to_string(router.as) + "\n" + extra;
  };
  for (const auto& d : layout.devices) {
    if (d.role == Role::kRr) {
      // ECMP: each plane's session leaves on that plane, from the node's address there.
      peer("lab-" + d.name, d, t == "ecmp-fabric" ? "  sourceAddress: None\n" : "");
    } else if (d.role == Role::kTor) {
      peer("lab-" + d.name, d,
           "  nodeSelector: " + std::string(kRackLabel) + " == '" + std::to_string(d.rack) + "'\n");
    }
  }
  return yaml;
}

}  // namespace brindle::lab
