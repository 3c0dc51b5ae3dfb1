// IP address management as Calico does it: pools are cut into blocks (default /26 for IPv4, /122
// for IPv6, per-pool `blockSize`), each block affine to one node; a node allocates from its own
// blocks first, claims a new block with a compare-and-swap, and borrows from other nodes' blocks
// only when the pool is exhausted and strictAffinity is off. State lives in the datastore under
// Calico's /calico/ipam/v2/ layout, so it works the same on every backend.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "datastore/client.h"
#include "model/ipam_block.h"

namespace brindle::ipam {

struct AssignArgs {
  std::string handle;  // one per container/workload; release by handle frees all its addresses
  std::string node;    // the node the addresses are for (block affinity)
  int num4 = 1;
  int num6 = 0;
  std::map<std::string, std::string> attributes;  // e.g. node, namespace, pod/workload
  // Pools to allocate from, by name or CIDR; empty = every enabled pool whose nodeSelector
  // matches the node.
  std::vector<std::string> ipv4Pools;
  std::vector<std::string> ipv6Pools;
};

struct AssignResult {
  std::vector<Cidr> ipv4;  // each a /32 (IPv4) or /128 (IPv6) inside its pool
  std::vector<Cidr> ipv6;
};

struct Allocation {
  IpAddr ip;
  std::string handle;
  std::map<std::string, std::string> attributes;
  std::string block;  // block CIDR
};
// Every allocation of `block`, in ordinal order.
std::vector<Allocation> allocationsOf(const model::IpamBlockView& block);

struct BlockInfo {
  Cidr cidr;
  std::string affinity;  // "host:<node>" or empty
  int total = 0;
  int inUse = 0;
  int reserved = 0;   // addresses an IPReservation covers (allocated ones included)
  int available = 0;  // neither allocated nor reserved
};

struct PoolUsage {
  std::string name;
  Cidr cidr;
  uint64_t total = 0;  // addresses in the pool (saturated at 2^64-1: see hostBits)
  uint64_t inUse = 0;
  std::vector<BlockInfo> blocks;
  int hostBits = 0;  // total = 2^hostBits, exact also for an IPv6 /64 pool
  bool disabled = false;
  uint64_t reserved = 0;   // addresses an IPReservation covers
  uint64_t available = 0;  // neither allocated nor reserved (saturated like total)
};

class Ipam {
 public:
  virtual ~Ipam() = default;

  // Allocates args.num4 IPv4 and args.num6 IPv6 addresses for args.handle on args.node.
  // kUnavailable/kInvalid with a message a person can act on when no pool can serve.
  virtual Result<AssignResult> autoAssign(const AssignArgs& args) = 0;

  // Allocates one specific address (kAlreadyExists if taken, kInvalid if in no pool).
  virtual Status assignIp(const IpAddr& ip, const std::string& handle, const std::string& node,
                          const std::map<std::string, std::string>& attributes) = 0;

  // Frees every address held by `handle`; returns them (empty if the handle holds none: this is
  // not an error, so a repeated release succeeds).
  virtual Result<std::vector<IpAddr>> releaseByHandle(const std::string& handle) = 0;

  // Frees specific addresses; addresses not allocated are returned in the result, not an error.
  virtual Result<std::vector<IpAddr>> releaseIps(const std::vector<IpAddr>& ips) = 0;

  // The allocation of one address (kNotFound if free).
  virtual Result<Allocation> getAllocation(const IpAddr& ip) = 0;

  // Every allocation (for `ipam check`), and usage per pool (for `ipam show`).
  virtual Result<std::vector<Allocation>> listAllocations() = 0;
  virtual Result<std::vector<PoolUsage>> usage() = 0;

  // Global IPAM configuration (Calico's /calico/ipam/v2/config).
  virtual Status setStrictAffinity(bool strict) = 0;
  virtual Result<bool> strictAffinity() = 0;

  // Gives up `node`'s blocks (for a node that is gone): an empty block is deleted, a block still
  // holding addresses loses its affinity (it is deleted when its last address is released).
  // Returns the blocks released.
  virtual Result<std::vector<Cidr>> releaseHostAffinities(const std::string& node) = 0;
};
using IpamPtr = std::unique_ptr<Ipam>;

// The datastore-backed implementation.
IpamPtr makeIpam(datastore::Client& client);

}  // namespace brindle::ipam
