// The datastore-backed Ipam: every block change is one transaction that compare-and-swaps the
// block and its handles together, retried on conflict, so concurrent allocators never collide.
#include "ipam/ipam.h"

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "ipam/block.h"
#include "model/kinds.h"
#include "model/views.h"
#include "resources/resource_store.h"
#include "selector/selector.h"

namespace brindle::ipam {
namespace {

using datastore::KVPair;
using datastore::TxnOp;

// Calico retries a datastore conflict 100 times; concurrent allocators on one node all race for
// the same block, so allow more, with a short randomised back-off between attempts.
constexpr int kMaxRetries = 1000;

// How far a search for an unclaimed block walks past the blocks that exist: bounds the search
// in huge IPv6 pools whose blocks an IPReservation covers.
constexpr Uint128 kMaxBlockProbe = 65536;

// An IPPool with its node selector parsed (model::IpPoolView::nodeSelector keeps the text).
struct Pool : model::IpPoolView {
  std::string name;
  selector::Selector parsedNodeSelector;
};

bool isRetryable(ErrorCode c) {
  return c == ErrorCode::kConflict || c == ErrorCode::kAlreadyExists || c == ErrorCode::kNotFound;
}

// Back-off between attempts of one operation; its own generator, so no shared state.
class Retry {
 public:
  bool next() {
    if (attempt_ > 0) {
      if (!rng_) rng_.emplace(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
      const int cap = std::min(2000, 20 * attempt_);
      std::this_thread::sleep_for(
          std::chrono::microseconds(std::uniform_int_distribution<int>(0, cap)(*rng_)));
    }
    return attempt_++ < kMaxRetries;
  }

 private:
  int attempt_ = 0;
  std::optional<std::minstd_rand> rng_;
};

Error tooManyRetries(const std::string& what) {
  return makeError(ErrorCode::kUnavailable, what + ": too many concurrent IPAM updates, try again");
}

std::string hostAffinity(const std::string& node) { return "host:" + node; }

// The handle op of a transaction that adds `delta` addresses of `block` to `handle`.
Result<std::optional<TxnOp>> handleOp(datastore::Client& client, const std::string& handle,
                                      const Cidr& block, int delta) {
  if (handle.empty() || delta == 0) return std::optional<TxnOp>();
  auto kv = client.get(handleKey(handle));
  Handle h;
  TxnOp op;
  op.key = handleKey(handle);
  if (kv) {
    BRINDLE_ASSIGN_OR_RETURN(h, Handle::decode(kv->value));
    op.expectedRevision = kv->modRevision;
    op.type = TxnOp::Type::kUpdate;
  } else if (kv.code() == ErrorCode::kNotFound) {
    if (delta < 0) return std::optional<TxnOp>();  // nothing recorded: nothing to decrement
    op.type = TxnOp::Type::kCreate;
  } else {
    return kv.error();
  }
  const std::string name = block.toString();
  h.blocks[name] += delta;
  if (h.blocks[name] <= 0) h.blocks.erase(name);
  if (h.blocks.empty()) {
    if (op.type == TxnOp::Type::kCreate) return std::optional<TxnOp>();
    op.type = TxnOp::Type::kDelete;
  } else {
    op.value = h.encode();
  }
  return std::optional<TxnOp>(op);
}

// The write of a changed block: delete it when empty and affine to no node (Calico keeps empty
// affine blocks, so a node's next workload reuses its block and its route aggregate).
TxnOp blockWriteOp(const KVPair& kv, Block& block) {
  TxnOp op;
  op.key = kv.key;
  op.expectedRevision = kv.modRevision;
  if (block.empty() && !block.affinity()) {
    op.type = TxnOp::Type::kDelete;
  } else {
    block.bumpSequence();
    op.type = TxnOp::Type::kUpdate;
    op.value = block.encode();
  }
  return op;
}

uint64_t saturate(Uint128 v) {
  return v > Uint128(UINT64_MAX) ? UINT64_MAX : static_cast<uint64_t>(v);
}

class IpamImpl final : public Ipam {
 public:
  explicit IpamImpl(datastore::Client& client) : client_(client), store_(client) {}

  Result<AssignResult> autoAssign(const AssignArgs& args) override {
    if (args.node.empty()) return makeError(ErrorCode::kInvalid, "IPAM: no node name given");
    if (args.num4 < 0 || args.num6 < 0 || args.num4 + args.num6 == 0) {
      return makeError(ErrorCode::kInvalid, "IPAM: nothing to assign (num4 and num6 are 0)");
    }
    BRINDLE_ASSIGN_OR_RETURN(auto cfg, IpamConfig::read(client_));
    BRINDLE_ASSIGN_OR_RETURN(auto reserved, loadReservations());
    BRINDLE_ASSIGN_OR_RETURN(auto labels, nodeLabels(args.node));

    AssignResult result;
    std::vector<IpAddr> taken;
    for (bool v4 : {true, false}) {
      const int num = v4 ? args.num4 : args.num6;
      if (num == 0) continue;
      auto got = assignFamily(v4, num, v4 ? args.ipv4Pools : args.ipv6Pools, args, labels, cfg,
                              reserved, taken);
      if (!got) {
        // All or nothing: a caller (CNI ADD) that fails must leave no allocation behind.
        if (!taken.empty()) (void)releaseIps(taken);
        return got.error();
      }
      for (const auto& ip : *got) {
        auto c = Cidr::parse(ip.toString(), true);
        (v4 ? result.ipv4 : result.ipv6).push_back(*c);
      }
    }
    return result;
  }

  Status assignIp(const IpAddr& ip, const std::string& handle, const std::string& node,
                  const std::map<std::string, std::string>& attributes) override {
    BRINDLE_ASSIGN_OR_RETURN(auto pools, loadPools());
    const Pool* pool = nullptr;
    for (const auto& p : pools) {
      if (p.cidr.contains(ip)) pool = &p;
    }
    if (!pool) {
      return makeError(ErrorCode::kInvalid,
                       "IPAM: " + ip.toString() + " is not in any configured IP pool");
    }
    BRINDLE_ASSIGN_OR_RETURN(auto cfg, IpamConfig::read(client_));
    const Cidr cidr = blockOf(ip, pool->blockSize);
    Retry retry;
    while (retry.next()) {
      auto kv = client_.get(blockKey(cidr));
      if (!kv && kv.code() != ErrorCode::kNotFound) return kv.status();
      // No block yet: claim it for `node` together with the address.
      auto b = kv ? Block::decode(kv->value)
                  : Result<Block>(Block::create(cidr, hostAffinity(node), nowSequence()));
      if (!b) return b.status();
      if (kv && cfg.strictAffinity && b->affinity() != hostAffinity(node)) {
        return makeError(ErrorCode::kInvalid, "IPAM: " + ip.toString() + " is in block " +
                                                  cidr.toString() + " affine to " +
                                                  b->affinity().value_or("no node") +
                                                  " and strictAffinity is on");
      }
      if (Status s = b->assign(*b->ipToOrdinal(ip), handle, attributes); !s) return s;
      BRINDLE_ASSIGN_OR_RETURN(auto hop, handleOp(client_, handle, cidr, 1));
      std::vector<TxnOp> ops;
      if (kv) {
        ops.push_back(blockWriteOp(*kv, *b));
      } else {
        ops = {{TxnOp::Type::kCreate, blockKey(cidr), b->encode(), 0},
               {TxnOp::Type::kPut, affinityKey(node, cidr), encodeAffinity(), 0}};
      }
      if (hop) ops.push_back(*hop);
      auto t = client_.txn(ops);
      if (t) return Status::ok();
      if (!isRetryable(t.code())) return t.status();
    }
    return tooManyRetries("assign " + ip.toString());
  }

  Result<std::vector<IpAddr>> releaseByHandle(const std::string& handle) override {
    std::vector<IpAddr> released;
    if (handle.empty()) return released;
    Retry retry;
    while (retry.next()) {
      auto hkv = client_.get(handleKey(handle));
      if (!hkv) {
        if (hkv.code() == ErrorCode::kNotFound) return released;
        return hkv.error();
      }
      BRINDLE_ASSIGN_OR_RETURN(auto h, Handle::decode(hkv->value));
      if (h.blocks.empty()) {
        auto r = client_.remove(hkv->key, hkv->modRevision);
        if (r || isRetryable(r.code())) continue;
        return r.error();
      }
      // One block per transaction: the block and the handle's entry for it go together.
      auto cidr = Cidr::parse(h.blocks.begin()->first, false);
      if (!cidr) return makeError(ErrorCode::kInternal, "corrupt IPAM handle " + handle);
      Handle rest = h;
      rest.blocks.erase(rest.blocks.begin());
      TxnOp hop{rest.blocks.empty() ? TxnOp::Type::kDelete : TxnOp::Type::kUpdate, hkv->key,
                rest.blocks.empty() ? "" : rest.encode(), hkv->modRevision};
      std::vector<TxnOp> ops;
      std::vector<IpAddr> ips;
      auto bkv = client_.get(blockKey(*cidr));
      if (bkv) {
        BRINDLE_ASSIGN_OR_RETURN(auto b, Block::decode(bkv->value));
        ips = b.releaseByHandle(handle);
        if (!ips.empty()) ops.push_back(blockWriteOp(*bkv, b));
      } else if (bkv.code() != ErrorCode::kNotFound) {
        return bkv.error();
      }
      ops.push_back(hop);
      auto t = client_.txn(ops);
      if (t) {
        released.insert(released.end(), ips.begin(), ips.end());
        retry = Retry();  // progress: the budget is per step
        continue;
      }
      if (!isRetryable(t.code())) return t.error();
    }
    return tooManyRetries("release handle " + handle);
  }

  Result<std::vector<IpAddr>> releaseIps(const std::vector<IpAddr>& ips) override {
    std::vector<IpAddr> notAllocated;
    std::map<Cidr, std::vector<IpAddr>> byBlock;
    std::optional<std::vector<Cidr>> allBlocks;  // listed once, only if a pool does not tell
    BRINDLE_ASSIGN_OR_RETURN(auto pools, loadPools());
    for (const auto& ip : ips) {
      BRINDLE_ASSIGN_OR_RETURN(auto where, findBlock(ip, pools, allBlocks));
      if (!where) {
        notAllocated.push_back(ip);
      } else {
        byBlock[*where].push_back(ip);
      }
    }
    for (const auto& [cidr, group] : byBlock) {
      Retry retry;
      bool done = false;
      while (!done && retry.next()) {
        auto kv = client_.get(blockKey(cidr));
        if (!kv) {
          if (kv.code() != ErrorCode::kNotFound) return kv.error();
          notAllocated.insert(notAllocated.end(), group.begin(), group.end());
          done = true;
          break;
        }
        BRINDLE_ASSIGN_OR_RETURN(auto b, Block::decode(kv->value));
        std::vector<IpAddr> missing;
        auto counts = b.release(group, &missing);
        if (counts.empty()) {
          notAllocated.insert(notAllocated.end(), missing.begin(), missing.end());
          done = true;
          break;
        }
        std::vector<TxnOp> ops = {blockWriteOp(*kv, b)};
        for (const auto& [handle, n] : counts) {
          BRINDLE_ASSIGN_OR_RETURN(auto hop, handleOp(client_, handle, cidr, -n));
          if (hop) ops.push_back(*hop);
        }
        auto t = client_.txn(ops);
        if (t) {
          notAllocated.insert(notAllocated.end(), missing.begin(), missing.end());
          done = true;
        } else if (!isRetryable(t.code())) {
          return t.error();
        }
      }
      if (!done) return tooManyRetries("release from block " + cidr.toString());
    }
    return notAllocated;
  }

  Result<Allocation> getAllocation(const IpAddr& ip) override {
    BRINDLE_ASSIGN_OR_RETURN(auto pools, loadPools());
    std::optional<std::vector<Cidr>> allBlocks;
    BRINDLE_ASSIGN_OR_RETURN(auto where, findBlock(ip, pools, allBlocks));
    auto notAssigned = makeError(ErrorCode::kNotFound, ip.toString() + " is not assigned");
    if (!where) return notAssigned;
    auto kv = client_.get(blockKey(*where));
    if (!kv) return kv.code() == ErrorCode::kNotFound ? notAssigned : kv.error();
    auto b = Block::decode(kv->value);
    if (!b) return b.error();
    const auto* attr = b->attributeOf(*b->ipToOrdinal(ip));
    if (!attr) return notAssigned;
    return Allocation{ip, attr->handle.value_or(""), attr->secondary, b->cidr().toString()};
  }

  Result<std::vector<Allocation>> listAllocations() override {
    BRINDLE_ASSIGN_OR_RETURN(auto blocks, listBlocks());
    std::vector<Allocation> out;
    for (const auto& b : blocks) {
      for (auto& a : allocationsOf(b)) out.push_back(std::move(a));
    }
    return out;
  }

  Result<std::vector<PoolUsage>> usage() override {
    BRINDLE_ASSIGN_OR_RETURN(auto pools, loadPools());
    BRINDLE_ASSIGN_OR_RETURN(auto blocks, listBlocks());
    BRINDLE_ASSIGN_OR_RETURN(auto reserved, loadReservations());
    std::vector<PoolUsage> out;
    for (const auto& p : pools) {
      PoolUsage u;
      u.name = p.name;
      u.cidr = p.cidr;
      u.disabled = p.disabled;
      u.hostBits = p.cidr.address().bits() - p.cidr.prefixLength();
      const Uint128 total = cidrSize(p.cidr);
      u.total = saturate(total);
      // Reserved addresses in the pool: reservations nested in another count once.
      Uint128 reservedCount = 0;
      const auto& rs = reserved.cidrs();
      for (size_t i = 0; i < rs.size(); ++i) {
        bool nested = false;
        for (size_t j = 0; j < rs.size() && !nested; ++j) {
          nested = j != i && rs[j].contains(rs[i]) && (rs[j] != rs[i] || j < i);
        }
        if (nested || rs[i].isV4() != p.cidr.isV4()) continue;
        if (rs[i].contains(p.cidr)) {
          reservedCount = total;
          break;
        }
        if (p.cidr.contains(rs[i])) reservedCount += cidrSize(rs[i]);
      }
      Uint128 inUse = 0, allocatedReserved = 0;
      for (const auto& b : blocks) {
        if (!p.cidr.contains(b.cidr())) continue;
        BlockInfo info;
        info.cidr = b.cidr();
        info.affinity = b.affinity().value_or("");
        info.total = b.size();
        info.inUse = b.inUse();
        const ReservedRanges local = reserved.within(b.cidr());
        int blockAllocatedReserved = 0;
        if (!local.cidrs().empty()) {
          for (int o = 0; o < b.size(); ++o) {
            if (!local.contains(b.ordinalToIp(o))) continue;
            ++info.reserved;
            if (b.attributeOf(o)) ++blockAllocatedReserved;
          }
        }
        info.available = info.total - info.inUse - (info.reserved - blockAllocatedReserved);
        inUse += static_cast<Uint128>(info.inUse);
        allocatedReserved += static_cast<Uint128>(blockAllocatedReserved);
        u.blocks.push_back(info);
      }
      u.inUse = saturate(inUse);
      u.reserved = saturate(reservedCount);
      u.available = saturate(total - inUse - (reservedCount - allocatedReserved));
      out.push_back(std::move(u));
    }
    return out;
  }

  Status setStrictAffinity(bool strict) override {
    Retry retry;
    while (retry.next()) {
      auto kv = client_.get(kConfigKey);
      IpamConfig cfg;
      if (kv) {
        BRINDLE_ASSIGN_OR_RETURN(cfg, IpamConfig::decode(kv->value));
      } else if (kv.code() != ErrorCode::kNotFound) {
        return kv.status();
      }
      cfg.strictAffinity = strict;
      Status st = kv ? client_.update(kConfigKey, cfg.encode(), kv->modRevision).status()
                     : client_.create(kConfigKey, cfg.encode()).status();
      if (st || !isRetryable(st.code())) return st;
    }
    return tooManyRetries("configure IPAM");
  }

  Result<bool> strictAffinity() override {
    BRINDLE_ASSIGN_OR_RETURN(auto cfg, IpamConfig::read(client_));
    return cfg.strictAffinity;
  }

  Result<std::vector<Cidr>> releaseHostAffinities(const std::string& node) override {
    std::vector<Cidr> released;
    for (bool v4 : {true, false}) {
      BRINDLE_ASSIGN_OR_RETURN(auto affs, client_.list(hostAffinityPrefix(node, v4)));
      for (const auto& aff : affs.items) {
        auto cidr = cidrFromKey(aff.key);
        if (!cidr) continue;
        Retry retry;
        bool done = false;
        while (!done && retry.next()) {
          auto kv = client_.get(blockKey(*cidr));
          std::vector<TxnOp> ops = {{TxnOp::Type::kDelete, aff.key, "", 0}};
          if (kv) {
            BRINDLE_ASSIGN_OR_RETURN(auto b, Block::decode(kv->value));
            if (b.affinity() == hostAffinity(node)) {
              b.setAffinity(std::nullopt);
              ops.push_back(blockWriteOp(*kv, b));
            }
          } else if (kv.code() != ErrorCode::kNotFound) {
            return kv.error();
          }
          auto t = client_.txn(ops);
          if (t) {
            released.push_back(*cidr);
            done = true;
          } else if (t.code() == ErrorCode::kNotFound &&
                     t.message().find(aff.key) != std::string::npos) {
            done = true;  // someone else released it
          } else if (!isRetryable(t.code())) {
            return t.error();
          }
        }
        if (!done) return tooManyRetries("release affinity of " + cidr->toString());
      }
    }
    return released;
  }

 private:
  static uint64_t nowSequence() {
    return static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  }

  // An unreadable IPPool value (written by another tool) is named on stderr once per process
  // and skipped, so it does not fail allocations from the others; if no pool is left, the error
  // names it.
  Result<std::vector<Pool>> loadPools() {
    BRINDLE_ASSIGN_OR_RETURN(auto list, store_.listReadable(model::Kind::kIPPool));
    static std::set<std::string> named;
    for (const auto& bad : list.bad) {
      if (named.insert(bad.key + bad.reason).second) {
        std::fprintf(stderr, "brindle: skipped unreadable IP pool: %s\n", bad.reason.c_str());
      }
    }
    if (list.items.empty() && !list.bad.empty()) {
      return makeError(ErrorCode::kCorrupt, "no readable IP pool: " + list.bad.front().reason);
    }
    std::vector<Pool> pools;
    for (const auto& r : list.items) {
      auto view = model::ipPoolView(r);
      if (!view) continue;  // validated on write; skip rather than fail every allocation
      if (view->blockSize < view->cidr.prefixLength()) continue;  // cannot hold one block
      Pool p{*view, r.name(), {}};
      auto sel = selector::Selector::parse(p.nodeSelector);
      if (!sel) continue;
      p.parsedNodeSelector = *sel;
      pools.push_back(std::move(p));
    }
    return pools;
  }

  Result<ReservedRanges> loadReservations() {
    BRINDLE_ASSIGN_OR_RETURN(auto list, store_.list(model::Kind::kIPReservation));
    std::vector<Cidr> cidrs;
    for (const auto& r : list) {
      auto reserved = model::cidrList(r.spec, "reservedCIDRs");
      if (reserved) cidrs.insert(cidrs.end(), reserved->begin(), reserved->end());
    }
    return ReservedRanges(std::move(cidrs));
  }

  // A missing Node has no labels (only all() pools select it).
  Result<Labels> nodeLabels(const std::string& node) {
    auto r = store_.get(model::Kind::kNode, "", node);
    if (!r) {
      if (r.code() == ErrorCode::kNotFound) return Labels{};
      return r.error();
    }
    return r->labels();
  }

  Result<std::vector<Block>> listBlocks() {
    BRINDLE_ASSIGN_OR_RETURN(auto list, client_.list(kBlockPrefix));
    std::vector<Block> out;
    for (const auto& kv : list.items) {
      BRINDLE_ASSIGN_OR_RETURN(auto b, Block::decode(kv.value));
      out.push_back(std::move(b));
    }
    return out;
  }

  // The block holding `ip`: from its pool's blockSize when that block exists, else from the
  // blocks in the store (a pool may have been deleted or resized since). nullopt: none.
  Result<std::optional<Cidr>> findBlock(const IpAddr& ip, const std::vector<Pool>& pools,
                                        std::optional<std::vector<Cidr>>& allBlocks) {
    for (const auto& p : pools) {
      if (!p.cidr.contains(ip)) continue;
      const Cidr c = blockOf(ip, p.blockSize);
      auto kv = client_.get(blockKey(c));
      if (kv) return std::optional<Cidr>(c);
      if (kv.code() != ErrorCode::kNotFound) return kv.error();
    }
    if (!allBlocks) {
      BRINDLE_ASSIGN_OR_RETURN(auto list, client_.list(blockPrefix(ip.isV4())));
      allBlocks.emplace();
      for (const auto& kv : list.items) {
        if (auto c = cidrFromKey(kv.key)) allBlocks->push_back(*c);
      }
    }
    for (const auto& c : *allBlocks) {
      if (c.contains(ip)) return std::optional<Cidr>(c);
    }
    return std::optional<Cidr>();
  }

  // The pools this request may use, or an error saying why there are none.
  Result<std::vector<Pool>> eligiblePools(bool v4, const std::vector<std::string>& requested,
                                          const std::string& node, const Labels& labels) {
    BRINDLE_ASSIGN_OR_RETURN(auto all, loadPools());
    const std::string fam = v4 ? "IPv4" : "IPv6";
    std::vector<Pool> family;
    for (auto& p : all) {
      if (p.cidr.isV4() == v4) family.push_back(std::move(p));
    }
    if (family.empty()) {
      return makeError(ErrorCode::kUnavailable,
                       "no " + fam + " IP pool is configured: create an IPPool first");
    }
    std::vector<Pool> out;
    if (!requested.empty()) {
      // Requested pools are used whatever their nodeSelector, as Calico does.
      for (const auto& want : requested) {
        auto wantCidr = Cidr::parse(want, false);
        auto it = std::find_if(family.begin(), family.end(), [&](const Pool& p) {
          return p.name == want || (wantCidr && p.cidr == *wantCidr);
        });
        if (it == family.end() || it->disabled) {
          return makeError(ErrorCode::kInvalid, "the requested " + fam + " pool " + want +
                                                    " does not exist, or is not enabled");
        }
        out.push_back(*it);
      }
      return out;
    }
    std::string why;
    for (const auto& p : family) {
      std::string reason;
      if (p.disabled) {
        reason = "disabled";
      } else if (!p.automatic) {
        reason = "assignmentMode Manual";
      } else if (!p.workload) {
        reason = "allowedUses excludes Workload";
      } else if (!p.parsedNodeSelector.matches(labels)) {
        reason = "nodeSelector " + p.nodeSelector + " does not select node " + node;
      }
      if (reason.empty()) {
        out.push_back(p);
      } else {
        why += (why.empty() ? "" : "; ") + p.name + " (" + p.cidr.toString() + "): " + reason;
      }
    }
    if (out.empty()) {
      return makeError(ErrorCode::kUnavailable,
                       "no enabled " + fam + " IP pool serves node " + node + ": " + why);
    }
    return out;
  }

  static bool inPools(const Cidr& block, const std::vector<Pool>& pools) {
    return std::ranges::any_of(pools, [&](const auto& p) { return p.cidr.contains(block); });
  }

  // Takes up to `num` addresses of one block. `owner` set: only while the block is still affine
  // to that node. Returns what it took (possibly nothing: block full, gone, or not ours).
  Result<std::vector<IpAddr>> assignFromBlock(const Cidr& cidr, int num, const AssignArgs& args,
                                              const ReservedRanges& reserved,
                                              const std::string* owner) {
    Retry retry;
    while (retry.next()) {
      auto kv = client_.get(blockKey(cidr));
      if (!kv) {
        if (kv.code() == ErrorCode::kNotFound) return std::vector<IpAddr>();
        return kv.error();
      }
      // A node walks all its affine blocks on every allocation; a full one is recognised without
      // parsing it (JSON parsing dominates the walk's cost once a node has many blocks).
      if (kv->value.find("\"unallocated\":[]") != std::string::npos) return std::vector<IpAddr>();
      BRINDLE_ASSIGN_OR_RETURN(auto b, Block::decode(kv->value));
      if (owner && b.affinity() != hostAffinity(*owner)) return std::vector<IpAddr>();
      auto ips = b.autoAssign(num, args.handle, args.attributes, reserved);
      if (ips.empty()) return ips;
      BRINDLE_ASSIGN_OR_RETURN(auto hop,
                               handleOp(client_, args.handle, cidr, static_cast<int>(ips.size())));
      std::vector<TxnOp> ops = {blockWriteOp(*kv, b)};
      if (hop) ops.push_back(*hop);
      auto t = client_.txn(ops);
      if (t) return ips;
      if (!isRetryable(t.code())) return t.error();
    }
    return tooManyRetries("assign from block " + cidr.toString());
  }

  // Claims a free block of one of `pools` for `node`: the block and its affinity are created in
  // one transaction, so of two nodes racing for a block exactly one gets it. Each node starts
  // its search at a place derived from its name (as Calico seeds its block walk with the host
  // name), so nodes seldom race at all. nullopt: every block of every pool is taken.
  Result<std::optional<Cidr>> claimBlock(bool v4, const std::vector<Pool>& pools,
                                         const std::string& node, const ReservedRanges& reserved) {
    BRINDLE_ASSIGN_OR_RETURN(auto list, client_.list(blockPrefix(v4)));
    std::set<Cidr> taken;
    for (const auto& kv : list.items) {
      if (auto c = cidrFromKey(kv.key)) taken.insert(*c);
    }
    const uint64_t seed = std::hash<std::string>{}(node);
    for (const auto& p : pools) {
      const Uint128 numBlocks = Uint128(1) << (p.blockSize - p.cidr.prefixLength());
      const Uint128 start = static_cast<Uint128>(seed) % numBlocks;
      const Uint128 limit = std::min<Uint128>(numBlocks, taken.size() + kMaxBlockProbe);
      for (Uint128 i = 0; i < limit; ++i) {
        const Cidr c = nthBlock(p.cidr, p.blockSize, (start + i) % numBlocks);
        if (taken.count(c) || reserved.coversWhole(c)) continue;
        Block b = Block::create(c, hostAffinity(node), nowSequence());
        auto t = client_.txn({{TxnOp::Type::kCreate, blockKey(c), b.encode(), 0},
                              {TxnOp::Type::kPut, affinityKey(node, c), encodeAffinity(), 0}});
        if (t) return std::optional<Cidr>(c);
        if (t.code() != ErrorCode::kAlreadyExists) return t.error();
        taken.insert(c);  // another node won it; walk on
      }
    }
    return std::optional<Cidr>();
  }

  Result<std::vector<IpAddr>> assignFamily(bool v4, int num,
                                           const std::vector<std::string>& requested,
                                           const AssignArgs& args, const Labels& labels,
                                           const IpamConfig& cfg, const ReservedRanges& reserved,
                                           std::vector<IpAddr>& taken) {
    auto pools = eligiblePools(v4, requested, args.node, labels);
    if (!pools) return pools.error();
    std::vector<IpAddr> got;
    // Takes from the blocks the keys name (block or affinity keys) until served.
    auto takeFrom = [&](const std::vector<KVPair>& keys, const std::string* owner) -> Status {
      for (const auto& kv : keys) {
        if (static_cast<int>(got.size()) >= num) break;
        auto c = cidrFromKey(kv.key);
        if (!c || !inPools(*c, *pools) || reserved.coversWhole(*c)) continue;
        BRINDLE_ASSIGN_OR_RETURN(auto ips, assignFromBlock(*c, num - static_cast<int>(got.size()),
                                                           args, reserved, owner));
        got.insert(got.end(), ips.begin(), ips.end());
        taken.insert(taken.end(), ips.begin(), ips.end());
      }
      return Status::ok();
    };
    // 1. The node's own blocks; 2. a newly claimed block; repeat until served or out of blocks.
    for (;;) {
      BRINDLE_ASSIGN_OR_RETURN(auto affs, client_.list(hostAffinityPrefix(args.node, v4)));
      if (Status st = takeFrom(affs.items, &args.node); !st) return st.error();
      if (static_cast<int>(got.size()) >= num || !cfg.autoAllocateBlocks) break;
      BRINDLE_ASSIGN_OR_RETURN(auto claimed, claimBlock(v4, *pools, args.node, reserved));
      if (!claimed) break;
    }
    // 3. Borrow from other nodes' blocks, only when no free block is left and not strict.
    if (static_cast<int>(got.size()) < num && !cfg.strictAffinity) {
      BRINDLE_ASSIGN_OR_RETURN(auto list, client_.list(blockPrefix(v4)));
      if (Status st = takeFrom(list.items, nullptr); !st) return st.error();
    }
    if (static_cast<int>(got.size()) < num) {
      std::string names;
      for (const auto& p : *pools) names += (names.empty() ? "" : ", ") + p.cidr.toString();
      const std::string fam = v4 ? "IPv4" : "IPv6";
      if (cfg.strictAffinity) {
        return makeError(ErrorCode::kUnavailable,
                         "no free " + fam + " address in the blocks of node " + args.node +
                             " and no free block left in " + names +
                             " (strictAffinity is on, so other nodes' blocks are not borrowed)");
      }
      return makeError(ErrorCode::kUnavailable,
                       "the " + fam + " pools " + names + " are exhausted (no free address)");
    }
    return got;
  }

  datastore::Client& client_;
  resources::ResourceStore store_;
};

}  // namespace

std::vector<Allocation> allocationsOf(const model::IpamBlockView& block) {
  std::vector<Allocation> out;
  for (int o : block.allocatedOrdinals()) {
    const auto* a = block.attributeOf(o);
    out.push_back(
        {block.ordinalToIp(o), a->handle.value_or(""), a->secondary, block.cidr().toString()});
  }
  return out;
}

IpamPtr makeIpam(datastore::Client& client) { return std::make_unique<IpamImpl>(client); }

}  // namespace brindle::ipam
