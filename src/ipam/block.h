// Calico's IPAM records as values: allocation blocks (JSON like libcalico-go's AllocationBlock),
// block affinities, handles, the IPAM config, their datastore keys, and the address arithmetic.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "datastore/client.h"

namespace brindle::ipam {

using Uint128 = unsigned __int128;

// Address <-> integer, for offsets inside pools and blocks.
Uint128 toInteger(const IpAddr& ip);
IpAddr fromInteger(Uint128 value, bool v4);
// The n-th block of `blockSize` inside `pool` (n counted from the pool's first address).
Cidr nthBlock(const Cidr& pool, int blockSize, Uint128 n);
// The block of `blockSize` that holds `ip`.
Cidr blockOf(const IpAddr& ip, int blockSize);
// 2^(bits - prefix), saturated at the largest Uint128 for a /0 IPv6 CIDR.
Uint128 cidrSize(const Cidr& cidr);

// Datastore keys, as Calico's etcd layout: "10.0.0.0/26" becomes "10.0.0.0-26".
inline constexpr const char* kBlockPrefix = "/calico/ipam/v2/assignment/";
inline constexpr const char* kHandlePrefix = "/calico/ipam/v2/handle/";
inline constexpr const char* kHostPrefix = "/calico/ipam/v2/host/";
inline constexpr const char* kConfigKey = "/calico/ipam/v2/config";
std::string blockKey(const Cidr& block);
std::string affinityKey(const std::string& node, const Cidr& block);
std::string hostAffinityPrefix(const std::string& node, bool v4);  // .../host/<node>/ipv4/block/
std::string blockPrefix(bool v4);                                  // .../assignment/ipv4/block/
std::string handleKey(const std::string& handle);
// The CIDR named by the last path element of a block or affinity key.
Result<Cidr> cidrFromKey(const std::string& key);

// Addresses an IPReservation keeps out of automatic assignment.
class ReservedRanges {
 public:
  ReservedRanges() = default;
  explicit ReservedRanges(std::vector<Cidr> cidrs) : cidrs_(std::move(cidrs)) {}
  bool contains(const IpAddr& ip) const;
  bool coversWhole(const Cidr& block) const;
  bool touches(const Cidr& block) const;
  // Those overlapping `block`, so per-address checks look at a handful.
  ReservedRanges within(const Cidr& block) const;
  const std::vector<Cidr>& cidrs() const { return cidrs_; }

 private:
  std::vector<Cidr> cidrs_;
};

struct AllocationAttribute {
  std::optional<std::string> handle;             // "handle_id"
  std::map<std::string, std::string> secondary;  // "secondary": node, namespace, pod, ...
};

// One block: which ordinals are taken (index into attributes) and which are free, in the order
// they will be handed out (new blocks: 0..n-1; released ordinals go to the back, as in Calico, so
// an address just freed is the last to be reused).
class Block {
 public:
  static Block create(const Cidr& cidr, std::optional<std::string> affinity, uint64_t sequence);
  static Result<Block> decode(const std::string& json);
  std::string encode() const;

  const Cidr& cidr() const { return cidr_; }
  const std::optional<std::string>& affinity() const { return affinity_; }
  void setAffinity(std::optional<std::string> a) { affinity_ = std::move(a); }
  int size() const { return static_cast<int>(allocations_.size()); }
  int inUse() const { return size() - static_cast<int>(unallocated_.size()); }
  bool empty() const { return unallocated_.size() == allocations_.size(); }
  int numFree(const ReservedRanges& reserved) const;

  IpAddr ordinalToIp(int ordinal) const;
  std::optional<int> ipToOrdinal(const IpAddr& ip) const;
  // The attribute of an allocated ordinal, nullptr if it is free.
  const AllocationAttribute* attributeOf(int ordinal) const;

  // Takes up to `num` free addresses, skipping reserved ones; returns those taken.
  std::vector<IpAddr> autoAssign(int num, const std::string& handle,
                                 const std::map<std::string, std::string>& attrs,
                                 const ReservedRanges& reserved);
  // Takes one address; kAlreadyExists if taken.
  Status assign(int ordinal, const std::string& handle,
                const std::map<std::string, std::string>& attrs);
  // Frees the given addresses; per handle the number freed. Addresses not allocated are put in
  // `notAllocated`.
  std::map<std::string, int> release(const std::vector<IpAddr>& ips,
                                     std::vector<IpAddr>* notAllocated);
  // Frees every address of `handle`; returns them.
  std::vector<IpAddr> releaseByHandle(const std::string& handle);
  // Allocated addresses per handle (handle "" for allocations without one).
  std::map<std::string, int> countsByHandle() const;
  // Every allocated ordinal.
  std::vector<int> allocatedOrdinals() const;
  // Raises the sequence number; done once per write so each stored version is distinct.
  void bumpSequence() { ++sequence_; }

 private:
  int findOrAddAttribute(const std::string& handle,
                         const std::map<std::string, std::string>& attrs);
  void dropUnusedAttributes();

  Cidr cidr_;
  std::optional<std::string> affinity_;
  std::vector<int> allocations_;  // -1 = free, else index into attributes_
  std::vector<int> unallocated_;
  std::vector<AllocationAttribute> attributes_;
  uint64_t sequence_ = 0;
  std::map<std::string, uint64_t> sequenceForAllocation_;
};

// The value under a host affinity key.
std::string encodeAffinity();  // {"state":"confirmed","deleted":false}

// A handle: how many addresses it holds in which block (by block CIDR text).
struct Handle {
  std::map<std::string, int> blocks;
  static Result<Handle> decode(const std::string& json);
  std::string encode() const;
  int total() const;
};

// Calico's /calico/ipam/v2/config. A missing key means the defaults.
struct IpamConfig {
  bool strictAffinity = false;
  bool autoAllocateBlocks = true;
  static Result<IpamConfig> decode(const std::string& json);
  static Result<IpamConfig> read(datastore::Client& client);
  std::string encode() const;
};

}  // namespace brindle::ipam
