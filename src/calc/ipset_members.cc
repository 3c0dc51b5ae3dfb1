// IpSetMemberCalculator: reference-counted ipset members; see ipset_members.h.
#include "calc/ipset_members.h"

namespace brindle::calc {

IpSetMemberCalculator::IpSetMemberCalculator(EventSequencer& out)
    : out_(out),
      index_([this](const std::string& s, const std::string& i) { matchStarted(s, i); },
             [this](const std::string& s, const std::string& i) { matchStopped(s, i); }) {}

// The sequencer counts references, so two items sharing an address keep it until both go.
void IpSetMemberCalculator::addMember(const std::string& setId, const Cidr& c) {
  out_.addIpSetMember(setId, c);
}

void IpSetMemberCalculator::removeMember(const std::string& setId, const Cidr& c) {
  out_.removeIpSetMember(setId, c);
}

void IpSetMemberCalculator::matchStarted(const std::string& setId, const std::string& itemKey) {
  for (const auto& c : addresses_[index_.findItemSlot(itemKey)]) addMember(setId, c);
}

void IpSetMemberCalculator::matchStopped(const std::string& setId, const std::string& itemKey) {
  for (const auto& c : addresses_[index_.findItemSlot(itemKey)]) removeMember(setId, c);
}

void IpSetMemberCalculator::addSelectorSet(const std::string& id, const selector::Selector& sel) {
  out_.addIpSet(id);
  index_.updateSelector(id, sel);
}

void IpSetMemberCalculator::addNetSet(const std::string& id, const std::vector<Cidr>& nets) {
  out_.addIpSet(id);
  netSets_.insert(id);
  for (const auto& c : nets) addMember(id, c);
}

void IpSetMemberCalculator::removeSet(const std::string& id) {
  index_.deleteSelector(id);
  netSets_.erase(id);
  out_.removeIpSet(id);
}

void IpSetMemberCalculator::updateItem(const std::string& key, const Labels& labels,
                                       const std::vector<std::string>& parents,
                                       const std::vector<Cidr>& addresses) {
  const uint32_t slot = index_.itemSlot(key);
  if (slot >= addresses_.size()) addresses_.resize(slot + 1);
  if (addresses_[slot] != addresses) {
    // Address change: swap members in the sets that match the item now.
    index_.forEachMatchOf(key, [&](const std::string& setId) {
      for (const auto& c : addresses) addMember(setId, c);
      for (const auto& c : addresses_[slot]) removeMember(setId, c);
    });
    addresses_[slot] = addresses;
  }
  index_.updateItem(key, labels, parents);
}

void IpSetMemberCalculator::removeItem(const std::string& key) {
  const uint32_t slot = index_.findItemSlot(key);
  if (slot == LabelIndex::kNoSlot) return;
  index_.deleteItem(key);  // match-stopped callbacks still read the addresses
  std::vector<Cidr>().swap(addresses_[slot]);
}

void IpSetMemberCalculator::updateParent(const std::string& name, const Labels& labels) {
  index_.updateParent(name, labels);
}

void IpSetMemberCalculator::removeParent(const std::string& name) { index_.deleteParent(name); }

}  // namespace brindle::calc
