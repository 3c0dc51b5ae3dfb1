// IpamBlockView: Calico's AllocationBlock as stored under /calico/ipam/v2/assignment/, decoded once
// for every reader: the calculation (affine blocks become routes), BGP (own and borrowed
// addresses) and IPAM itself, whose ipam::Block adds the changes (assign, release) on top.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace brindle::model {

inline constexpr const char* kIpamBlockPrefix = "/calico/ipam/v2/assignment/";

using Uint128 = unsigned __int128;

// Address <-> integer, for offsets inside pools and blocks.
Uint128 toInteger(const IpAddr& ip);
IpAddr fromInteger(Uint128 value, bool v4);
// 2^(bits - prefix), saturated at the largest Uint128 for a /0 IPv6 CIDR.
Uint128 cidrSize(const Cidr& cidr);

struct AllocationAttribute {
  std::optional<std::string> handle;             // "handle_id"
  std::map<std::string, std::string> secondary;  // "secondary": node, namespace, pod, ...
};

// One block: which ordinals are taken (index into attributes) and which are free, in the order
// they will be handed out (new blocks: 0..n-1; released ordinals go to the back, as in Calico, so
// an address just freed is the last to be reused).
class IpamBlockView {
 public:
  // kInternal "corrupt IPAM block: ..." for a value that is not a consistent AllocationBlock.
  static Result<IpamBlockView> decode(const std::string& json);
  std::string encode() const;

  const Cidr& cidr() const { return cidr_; }
  const std::optional<std::string>& affinity() const { return affinity_; }
  int size() const { return static_cast<int>(allocations_.size()); }
  int inUse() const { return size() - static_cast<int>(unallocated_.size()); }
  bool empty() const { return unallocated_.size() == allocations_.size(); }

  IpAddr ordinalToIp(int ordinal) const;
  std::optional<int> ipToOrdinal(const IpAddr& ip) const;
  // The attribute of an allocated ordinal, nullptr if it is free.
  const AllocationAttribute* attributeOf(int ordinal) const;
  // Allocated addresses per handle (handle "" for allocations without one).
  std::map<std::string, int> countsByHandle() const;
  // Every allocated ordinal.
  std::vector<int> allocatedOrdinals() const;

 protected:
  Cidr cidr_;
  std::optional<std::string> affinity_;
  std::vector<int> allocations_;  // -1 = free, else index into attributes_
  std::vector<int> unallocated_;
  std::vector<AllocationAttribute> attributes_;
  uint64_t sequence_ = 0;
  std::map<std::string, uint64_t> sequenceForAllocation_;
};

}  // namespace brindle::model
