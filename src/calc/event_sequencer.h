// EventSequencer: holds the desired dataplane state the graph computes and, on flush(), sends
// only what changed since the last flush, in dependency order: ipsets created and filled, then
// policies and profiles, then endpoints; removals in reverse. Repeated changes between flushes
// coalesce, and the result depends only on the state, never on the order changes came in.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <unordered_map>

#include "calc/callbacks.h"
#include "calc/types.h"

namespace brindle::calc {

class EventSequencer {
 public:
  void addIpSet(const std::string& id);
  void removeIpSet(const std::string& id);
  // Members are reference-counted: one added twice stays until removed twice (or its set is).
  void addIpSetMember(const std::string& id, const Cidr& member);
  void removeIpSetMember(const std::string& id, const Cidr& member);

  // Rules are shared with the rule scanner: desired and last-sent point at the same value.
  void setPolicy(const PolicyId& id, std::shared_ptr<const ParsedRules> rules);
  void removePolicy(const PolicyId& id);
  void setProfile(const std::string& name, std::shared_ptr<const ParsedRules> rules);
  void removeProfile(const std::string& name);

  void setWorkloadEndpoint(WorkloadEndpoint ep);
  void removeWorkloadEndpoint(const std::string& id);
  void setHostEndpoint(HostEndpoint ep);
  void removeHostEndpoint(const std::string& id);

  void setPool(IpPool pool);
  void removePool(const Cidr& cidr);
  void setRoute(Route route);
  void removeRoute(const Cidr& destination);

  // Sends the changes since the last flush.
  void flush(DataplaneCallbacks& out);
  bool hasPending() const;

 private:
  // Desired value per key, the value last sent, and the keys that may differ. Large values are
  // held by shared_ptr, so "sent" costs a pointer, not a copy.
  // String keys are looked up by hash (ids share long prefixes); flushes follow `dirty`'s order.
  template <typename K, typename V>
  using MapOf =
      std::conditional_t<std::is_same_v<K, std::string>, std::unordered_map<K, V>, std::map<K, V>>;
  template <typename K, typename V>
  struct Keyed {
    MapOf<K, V> desired;
    MapOf<K, V> sent;
    std::set<K> dirty;
    void set(const K& k, V v) {
      desired[k] = std::move(v);
      dirty.insert(k);
    }
    void remove(const K& k) {
      if (desired.erase(k)) dirty.insert(k);
    }
  };

  // An ipset: its desired members and, once sent, what changed since (not a copy of what was
  // sent). A removed set that was sent stays, undesired, until the flush removes it.
  struct IpSet {
    bool desired = true;
    bool sent = false;
    std::map<Cidr, uint32_t> members;  // member -> references
    std::set<Cidr> added, removed;     // relative to what was sent; empty while not sent
  };
  std::unordered_map<std::string, IpSet> ipSets_;
  std::set<std::string> ipSetsDirty_;
  Keyed<PolicyId, std::shared_ptr<const ParsedRules>> policies_;
  Keyed<std::string, std::shared_ptr<const ParsedRules>> profiles_;
  Keyed<std::string, std::shared_ptr<const WorkloadEndpoint>> workloads_;
  Keyed<std::string, std::shared_ptr<const HostEndpoint>> hosts_;
  Keyed<Cidr, IpPool> pools_;
  Keyed<Cidr, Route> routes_;
};

}  // namespace brindle::calc
