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
#include "model/ipam_block.h"

namespace brindle::ipam {

using model::AllocationAttribute;
using model::cidrSize;
using model::fromInteger;
using model::toInteger;
using model::Uint128;

// The n-th block of `blockSize` inside `pool` (n counted from the pool's first address).
Cidr nthBlock(const Cidr& pool, int blockSize, Uint128 n);
// The block of `blockSize` that holds `ip`.
Cidr blockOf(const IpAddr& ip, int blockSize);

// Datastore keys, as Calico's etcd layout: "10.0.0.0/26" becomes "10.0.0.0-26".
inline constexpr const char* kBlockPrefix = model::kIpamBlockPrefix;
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
  // Those overlapping `block`, so per-address checks look at a handful.
  ReservedRanges within(const Cidr& block) const;
  const std::vector<Cidr>& cidrs() const { return cidrs_; }

 private:
  std::vector<Cidr> cidrs_;
};

// A block and the changes IPAM makes to it (the stored record and its queries: IpamBlockView).
class Block : public model::IpamBlockView {
 public:
  static Block create(const Cidr& cidr, std::optional<std::string> affinity, uint64_t sequence);
  static Result<Block> decode(const std::string& json);

  void setAffinity(std::optional<std::string> a) { affinity_ = std::move(a); }

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
  // Raises the sequence number; done once per write so each stored version is distinct.
  void bumpSequence() { ++sequence_; }

 private:
  int findOrAddAttribute(const std::string& handle,
                         const std::map<std::string, std::string>& attrs);
  void dropUnusedAttributes();
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
