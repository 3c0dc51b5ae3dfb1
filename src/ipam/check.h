// The IPAM consistency check behind `brindlectl ipam check` (calicoctl's): what the blocks and
// handles record against what the endpoints and nodes in the store use, and the repair of what
// can safely be repaired. Reports are values; printing them is the caller's job.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "datastore/client.h"
#include "ipam/block.h"
#include "ipam/ipam.h"

namespace brindle::ipam {

// An address that endpoints or node tunnels in the store say they use.
struct AddressUse {
  IpAddr ip;
  std::vector<std::string> owners;  // "WorkloadEndpoint(ns/name)", "HostEndpoint(n)", "Node(n)"
  bool allocated = false;           // IPAM holds an allocation for it
  bool inActivePool = false;        // inside an enabled IP pool
};

struct CheckReport {
  struct BlockEntry {
    std::string key;
    std::optional<Block> block;  // nullopt: the value does not decode (see error)
    std::string error;
  };
  struct HandleProblem {
    datastore::KVPair kv;  // as read: its revision guards the repair's delete
    std::string name;
    bool empty = false;  // no block holds an address of it; else the blocks disagree with it
    int recorded = 0;    // addresses the handle itself records
  };
  struct BlockOfMissingNode {
    Cidr block;
    std::string node;
  };

  std::vector<BlockEntry> blocks;  // in key order
  int invalidBlocks = 0;
  int allocations = 0;  // addresses the decodable blocks record
  std::vector<Cidr> activePools;
  int workloadIps = 0;            // addresses workload endpoints name
  int nodeIps = 0;                // node tunnel addresses
  std::vector<AddressUse> inUse;  // by address
  size_t unallocated = 0;         // in use, in an active pool, never allocated (--fix invents none)
  size_t outsidePools = 0;        // in use, outside every active pool: not IPAM's, not a problem
  std::vector<Allocation> leaked;             // allocated, used by nothing in the store
  size_t handles = 0;                         // handle keys read
  std::vector<HandleProblem> handleProblems;  // in key order
  size_t emptyHandles = 0;
  std::vector<std::string> missingHandles;  // named in blocks, no handle key
  bool nodesListed = false;  // false: no Node resource at all, so affinities were not checked
  std::vector<BlockOfMissingNode> blocksOfMissingNodes;  // in block order
  std::set<std::string> missingNodes;

  size_t problems() const {
    return leaked.size() + unallocated + handleProblems.size() + missingHandles.size() +
           invalidBlocks + missingNodes.size();
  }
  // What repair() acts on: leaked addresses, empty handles, blocks of missing nodes.
  size_t fixable() const { return leaked.size() + emptyHandles + missingNodes.size(); }
};

Result<CheckReport> checkConsistency(datastore::Client& client);

struct RepairReport {
  size_t released = 0;     // leaked addresses freed
  size_t alreadyFree = 0;  // leaked ones someone else freed since the check
  int handlesDeleted = 0;
  int handlesSkipped = 0;  // changed (gained an address) or gone since the check
  std::vector<std::pair<std::string, size_t>> nodeBlocksReleased;  // node -> blocks given up
};

// Releases what `report` found leaked, deletes its empty handles (each only if unchanged since
// it was read) and gives up the blocks of its missing nodes. Stops at the first failure.
Result<RepairReport> repair(datastore::Client& client, const CheckReport& report);

}  // namespace brindle::ipam
