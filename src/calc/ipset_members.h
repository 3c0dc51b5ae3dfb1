// IpSetMemberCalculator: the members of every active ipset. Selector sets hold the addresses of
// all matching endpoints on any node and the nets of matching network sets (through a label
// index over all of them); net sets hold their fixed CIDRs. Members are reference-counted (by
// the sequencer), so two items sharing an address keep it until both are gone.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "calc/event_sequencer.h"
#include "calc/label_index.h"

namespace brindle::calc {

class IpSetMemberCalculator {
 public:
  explicit IpSetMemberCalculator(EventSequencer& out);

  void addSelectorSet(const std::string& id, const selector::Selector& sel);
  void addNetSet(const std::string& id, const std::vector<Cidr>& nets);
  void removeSet(const std::string& id);

  // Items: endpoints (any node) and network sets, with their profile parents and addresses.
  void updateItem(const std::string& key, const Labels& labels,
                  const std::vector<std::string>& parents, const std::vector<Cidr>& addresses);
  void removeItem(const std::string& key);
  void updateParent(const std::string& name, const Labels& labels);
  void removeParent(const std::string& name);

 private:
  void matchStarted(const std::string& setId, const std::string& itemKey);
  void matchStopped(const std::string& setId, const std::string& itemKey);
  void addMember(const std::string& setId, const Cidr& c);
  void removeMember(const std::string& setId, const Cidr& c);

  EventSequencer& out_;
  LabelIndex index_;
  std::vector<std::vector<Cidr>> addresses_;  // by the item's label-index slot
  std::set<std::string> netSets_;
};

}  // namespace brindle::calc
