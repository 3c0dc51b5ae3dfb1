// The event sequencer on its own: dependency order of a flush (ipsets, policies, profiles,
// pools, endpoints, routes; removals in reverse), coalescing between flushes, reference-counted
// ipset members and member deltas.
#include "calc/event_sequencer.h"

#include <gtest/gtest.h>

namespace brindle::calc {
namespace {

Cidr cidr(const std::string& text) { return *Cidr::parse(text, false); }

std::string join(const std::set<Cidr>& members) {
  std::string s;
  for (const auto& m : members) s += (s.empty() ? "" : ",") + m.toString();
  return s;
}

// Records every dataplane call as one line.
struct Recorder : DataplaneCallbacks {
  std::vector<std::string> log;
  void onIpSetAdded(const std::string& id) override { log.push_back("set+ " + id); }
  void onIpSetMembersAdded(const std::string& id, const std::set<Cidr>& m) override {
    log.push_back("members+ " + id + " " + join(m));
  }
  void onIpSetMembersRemoved(const std::string& id, const std::set<Cidr>& m) override {
    log.push_back("members- " + id + " " + join(m));
  }
  void onIpSetRemoved(const std::string& id) override { log.push_back("set- " + id); }
  void onPolicyActive(const PolicyId& id, const ParsedRules& r) override {
    log.push_back("policy+ " + id.text() + " " + std::to_string(r.ingress.size()));
  }
  void onPolicyInactive(const PolicyId& id) override { log.push_back("policy- " + id.text()); }
  void onProfileActive(const std::string& n, const ParsedRules&) override {
    log.push_back("profile+ " + n);
  }
  void onProfileInactive(const std::string& n) override { log.push_back("profile- " + n); }
  void onWorkloadEndpointUpdate(const WorkloadEndpoint& e) override {
    log.push_back("workload+ " + e.id + " " + e.interfaceName);
  }
  void onWorkloadEndpointRemove(const std::string& id) override {
    log.push_back("workload- " + id);
  }
  void onHostEndpointUpdate(const HostEndpoint& e) override { log.push_back("host+ " + e.id); }
  void onHostEndpointRemove(const std::string& id) override { log.push_back("host- " + id); }
  void onIpPoolUpdate(const IpPool& p) override { log.push_back("pool+ " + p.cidr.toString()); }
  void onIpPoolRemove(const Cidr& c) override { log.push_back("pool- " + c.toString()); }
  void onRouteUpdate(const Route& r) override {
    log.push_back("route+ " + r.destination.toString());
  }
  void onRouteRemove(const Cidr& c) override { log.push_back("route- " + c.toString()); }
  void onInSync() override { log.push_back("in-sync"); }
};

using Log = std::vector<std::string>;

Log flush(EventSequencer& seq) {
  Recorder out;
  seq.flush(out);
  return out.log;
}

std::shared_ptr<const ParsedRules> rules(size_t n) {
  auto r = std::make_shared<ParsedRules>();
  r->ingress.resize(n);
  return r;
}

WorkloadEndpoint workload(const std::string& id, const std::string& iface) {
  WorkloadEndpoint w;
  w.id = id;
  w.interfaceName = iface;
  return w;
}

const PolicyId kPolicy{"default", "p"};

// Everything set before one flush, in the reverse of dependency order.
void setEverything(EventSequencer& seq) {
  seq.setRoute(Route{cidr("10.0.0.1/32"), "cali1"});
  seq.setHostEndpoint(HostEndpoint{"h", "eth0", {}, {}, {}});
  seq.setWorkloadEndpoint(workload("ns/w", "cali1"));
  seq.setPool(IpPool{cidr("10.0.0.0/16"), true, false});
  seq.setProfile("prof", rules(0));
  seq.setPolicy(kPolicy, rules(1));
  seq.addIpSetMember("s:x", cidr("10.0.0.1/32"));
  seq.addIpSet("s:x");
}

TEST(EventSequencer, FlushSendsInDependencyOrderAndRemovesInReverse) {
  EventSequencer seq;
  EXPECT_FALSE(seq.hasPending());
  setEverything(seq);
  EXPECT_TRUE(seq.hasPending());
  EXPECT_EQ(flush(seq),
            (Log{"set+ s:x", "members+ s:x 10.0.0.1/32", "policy+ default|p 1", "profile+ prof",
                 "pool+ 10.0.0.0/16", "workload+ ns/w cali1", "host+ h", "route+ 10.0.0.1/32"}));
  EXPECT_FALSE(seq.hasPending());
  EXPECT_EQ(flush(seq), Log{});

  seq.removeIpSet("s:x");
  seq.removePolicy(kPolicy);
  seq.removeProfile("prof");
  seq.removePool(cidr("10.0.0.0/16"));
  seq.removeWorkloadEndpoint("ns/w");
  seq.removeHostEndpoint("h");
  seq.removeRoute(cidr("10.0.0.1/32"));
  EXPECT_EQ(flush(seq), (Log{"route- 10.0.0.1/32", "host- h", "workload- ns/w", "pool- 10.0.0.0/16",
                             "profile- prof", "policy- default|p", "set- s:x"}));
}

TEST(EventSequencer, ChangesBetweenFlushesCoalesce) {
  EventSequencer seq;
  seq.setWorkloadEndpoint(workload("ns/w", "cali1"));
  seq.setWorkloadEndpoint(workload("ns/w", "cali2"));
  seq.setPolicy(kPolicy, rules(1));
  seq.removePolicy(kPolicy);  // never sent: nothing to send either way
  seq.addIpSet("s:gone");
  seq.removeIpSet("s:gone");
  EXPECT_EQ(flush(seq), Log{"workload+ ns/w cali2"});

  // The value already sent, set again (a new object, equal content): nothing.
  seq.setWorkloadEndpoint(workload("ns/w", "cali2"));
  seq.setPolicy(kPolicy, rules(2));
  EXPECT_EQ(flush(seq), Log{"policy+ default|p 2"});
  seq.setPolicy(kPolicy, rules(2));
  EXPECT_EQ(flush(seq), Log{});

  // Removed and set back to the value sent: nothing.
  seq.removeWorkloadEndpoint("ns/w");
  seq.setWorkloadEndpoint(workload("ns/w", "cali2"));
  EXPECT_EQ(flush(seq), Log{});
}

TEST(EventSequencer, MembersAreReferenceCountedAndSentAsDeltas) {
  EventSequencer seq;
  const Cidr a = cidr("10.0.0.1/32"), b = cidr("10.0.0.2/32"), c = cidr("10.0.0.3/32");
  seq.addIpSet("s:x");
  seq.addIpSetMember("s:x", a);
  seq.addIpSetMember("s:x", a);  // two items share the address
  seq.addIpSetMember("s:x", b);
  EXPECT_EQ(flush(seq), (Log{"set+ s:x", "members+ s:x 10.0.0.1/32,10.0.0.2/32"}));

  seq.removeIpSetMember("s:x", a);  // one reference left
  EXPECT_EQ(flush(seq), Log{});
  seq.removeIpSetMember("s:x", a);
  seq.addIpSetMember("s:x", c);
  seq.addIpSetMember("s:x", b);  // b: one more reference, no change
  seq.removeIpSetMember("s:x", b);
  EXPECT_EQ(flush(seq), (Log{"members+ s:x 10.0.0.3/32", "members- s:x 10.0.0.1/32"}));

  // Out and back in between flushes: no delta at all.
  seq.removeIpSetMember("s:x", c);
  seq.addIpSetMember("s:x", c);
  seq.removeIpSetMember("s:x", cidr("10.9.9.9/32"));  // never a member: ignored
  EXPECT_EQ(flush(seq), Log{});

  // A removed set is recreated from scratch, with only the members it has then.
  seq.removeIpSet("s:x");
  EXPECT_EQ(flush(seq), Log{"set- s:x"});
  seq.addIpSetMember("s:x", a);
  EXPECT_EQ(flush(seq), (Log{"set+ s:x", "members+ s:x 10.0.0.1/32"}));
}

TEST(EventSequencer, ResultDependsOnStateNotOnOrder) {
  EventSequencer forward, backward;
  setEverything(forward);
  // The same state, reached in another order and through detours.
  backward.addIpSet("s:x");
  backward.setPolicy(kPolicy, rules(7));
  backward.addIpSetMember("s:x", cidr("10.0.0.1/32"));
  backward.setPool(IpPool{cidr("10.0.0.0/16"), false, false});
  backward.setWorkloadEndpoint(workload("ns/w", "cali1"));
  backward.setHostEndpoint(HostEndpoint{"h", "eth0", {}, {}, {}});
  backward.setProfile("prof", rules(0));
  backward.setRoute(Route{cidr("10.0.0.1/32"), "cali1"});
  backward.setPool(IpPool{cidr("10.0.0.0/16"), true, false});
  backward.setPolicy(kPolicy, rules(1));
  EXPECT_EQ(flush(forward), flush(backward));
}

}  // namespace
}  // namespace brindle::calc
