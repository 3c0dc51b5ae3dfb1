// IPAM records: block arithmetic, keys, the changes to blocks, and the JSON codec of handles and
// config (the block's own codec: model/ipam_block.cc).
#include "ipam/block.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/check.h"

namespace brindle::ipam {
namespace {

using Json = nlohmann::json;

std::string cidrName(const Cidr& c) {
  std::string s = c.toString();
  s[s.find('/')] = '-';
  return s;
}

Error corrupt(const std::string& what, const std::string& detail) {
  return makeError(ErrorCode::kInternal, "corrupt IPAM " + what + ": " + detail);
}

}  // namespace

Cidr nthBlock(const Cidr& pool, int blockSize, Uint128 n) {
  const int bits = pool.address().bits();
  const Uint128 base = toInteger(pool.address()) + (n << (bits - blockSize));
  auto c = Cidr::parse(fromInteger(base, pool.isV4()).toString() + "/" + std::to_string(blockSize));
  BRINDLE_CHECK(c, "block /" + std::to_string(blockSize) + " of " + pool.toString());
  return *c;
}

Cidr blockOf(const IpAddr& ip, int blockSize) {
  auto c = Cidr::parse(ip.toString() + "/" + std::to_string(blockSize));
  BRINDLE_CHECK(c, "block /" + std::to_string(blockSize) + " of " + ip.toString());
  return *c;
}

std::string blockPrefix(bool v4) {
  return std::string(kBlockPrefix) + (v4 ? "ipv4" : "ipv6") + "/block/";
}

std::string blockKey(const Cidr& block) { return blockPrefix(block.isV4()) + cidrName(block); }

std::string hostAffinityPrefix(const std::string& node, bool v4) {
  return std::string(kHostPrefix) + node + (v4 ? "/ipv4/block/" : "/ipv6/block/");
}

std::string affinityKey(const std::string& node, const Cidr& block) {
  return hostAffinityPrefix(node, block.isV4()) + cidrName(block);
}

std::string handleKey(const std::string& handle) { return kHandlePrefix + handle; }

Result<Cidr> cidrFromKey(const std::string& key) {
  std::string last = key.substr(key.rfind('/') + 1);
  auto dash = last.rfind('-');
  if (dash == std::string::npos) return makeError(ErrorCode::kInvalid, "not a block key: " + key);
  last[dash] = '/';
  return Cidr::parse(last, false);
}

bool ReservedRanges::contains(const IpAddr& ip) const {
  return std::ranges::any_of(cidrs_, [&](const auto& c) { return c.contains(ip); });
}

bool ReservedRanges::coversWhole(const Cidr& block) const {
  return std::ranges::any_of(cidrs_, [&](const auto& c) { return c.contains(block); });
}

ReservedRanges ReservedRanges::within(const Cidr& block) const {
  std::vector<Cidr> out;
  for (const auto& c : cidrs_) {
    if (c.isV4() == block.isV4() && c.overlaps(block)) out.push_back(c);
  }
  return ReservedRanges(std::move(out));
}

Block Block::create(const Cidr& cidr, std::optional<std::string> affinity, uint64_t sequence) {
  Block b;
  b.cidr_ = cidr;
  b.affinity_ = std::move(affinity);
  const int n = static_cast<int>(cidrSize(cidr));
  b.allocations_.assign(n, -1);
  b.unallocated_.resize(n);
  for (int i = 0; i < n; ++i) b.unallocated_[i] = i;
  b.sequence_ = sequence;
  return b;
}

Result<Block> Block::decode(const std::string& json) {
  BRINDLE_ASSIGN_OR_RETURN(auto view, IpamBlockView::decode(json));
  Block b;
  static_cast<IpamBlockView&>(b) = std::move(view);
  return b;
}

int Block::findOrAddAttribute(const std::string& handle,
                              const std::map<std::string, std::string>& attrs) {
  for (size_t i = 0; i < attributes_.size(); ++i) {
    const auto& a = attributes_[i];
    if (a.handle.value_or("") == handle && a.secondary == attrs) return static_cast<int>(i);
  }
  AllocationAttribute a;
  if (!handle.empty()) a.handle = handle;
  a.secondary = attrs;
  attributes_.push_back(std::move(a));
  return static_cast<int>(attributes_.size() - 1);
}

std::vector<IpAddr> Block::autoAssign(int num, const std::string& handle,
                                      const std::map<std::string, std::string>& attrs,
                                      const ReservedRanges& reserved) {
  std::vector<IpAddr> out;
  const ReservedRanges local = reserved.within(cidr_);
  std::vector<int> keep;
  keep.reserve(unallocated_.size());
  int attr = -1;
  for (size_t i = 0; i < unallocated_.size(); ++i) {
    const int o = unallocated_[i];
    if (static_cast<int>(out.size()) >= num) {
      keep.insert(keep.end(), unallocated_.begin() + static_cast<long>(i), unallocated_.end());
      break;
    }
    IpAddr ip = ordinalToIp(o);
    if (!local.cidrs().empty() && local.contains(ip)) {
      keep.push_back(o);
      continue;
    }
    if (attr < 0) attr = findOrAddAttribute(handle, attrs);
    allocations_[o] = attr;
    sequenceForAllocation_[std::to_string(o)] = sequence_;
    out.push_back(ip);
  }
  unallocated_ = std::move(keep);
  return out;
}

Status Block::assign(int ordinal, const std::string& handle,
                     const std::map<std::string, std::string>& attrs) {
  if (ordinal < 0 || ordinal >= size()) {
    return makeError(ErrorCode::kInvalid, "address outside block " + cidr_.toString());
  }
  if (allocations_[ordinal] >= 0) {
    return makeError(ErrorCode::kAlreadyExists,
                     "address " + ordinalToIp(ordinal).toString() + " is already assigned");
  }
  allocations_[ordinal] = findOrAddAttribute(handle, attrs);
  sequenceForAllocation_[std::to_string(ordinal)] = sequence_;
  unallocated_.erase(std::find(unallocated_.begin(), unallocated_.end(), ordinal));
  return Status::ok();
}

void Block::dropUnusedAttributes() {
  std::vector<int> used(attributes_.size(), 0);
  for (int a : allocations_) {
    if (a >= 0) used[a] = 1;
  }
  std::vector<int> remap(attributes_.size(), -1);
  std::vector<AllocationAttribute> kept;
  for (size_t i = 0; i < attributes_.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(attributes_[i]));
  }
  attributes_ = std::move(kept);
  for (int& a : allocations_) {
    if (a >= 0) a = remap[a];
  }
}

std::map<std::string, int> Block::release(const std::vector<IpAddr>& ips,
                                          std::vector<IpAddr>* notAllocated) {
  std::map<std::string, int> byHandle;
  std::vector<int> seen;
  for (const auto& ip : ips) {
    auto o = ipToOrdinal(ip);
    if (!o || allocations_[*o] < 0) {
      if (notAllocated) notAllocated->push_back(ip);
      continue;
    }
    byHandle[attributes_[allocations_[*o]].handle.value_or("")]++;
    allocations_[*o] = -1;
    unallocated_.push_back(*o);
    sequenceForAllocation_.erase(std::to_string(*o));
  }
  dropUnusedAttributes();
  return byHandle;
}

std::vector<IpAddr> Block::releaseByHandle(const std::string& handle) {
  std::vector<IpAddr> ips;
  for (int o = 0; o < size(); ++o) {
    const auto* a = attributeOf(o);
    if (a && a->handle && *a->handle == handle) ips.push_back(ordinalToIp(o));
  }
  if (!ips.empty()) release(ips, nullptr);
  return ips;
}

std::string encodeAffinity() { return R"({"state":"confirmed","deleted":false})"; }

Result<Handle> Handle::decode(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt("handle", "not a JSON object");
  Handle h;
  try {
    if (j.contains("block") && j["block"].is_object()) {
      h.blocks = j["block"].get<std::map<std::string, int>>();
    }
  } catch (const Json::exception& e) {
    return corrupt("handle", e.what());
  }
  return h;
}

std::string Handle::encode() const {
  Json j = Json::object();
  j["block"] = blocks;
  j["deleted"] = false;
  return j.dump();
}

int Handle::total() const {
  int n = 0;
  for (const auto& [_, c] : blocks) n += c;
  return n;
}

Result<IpamConfig> IpamConfig::decode(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt("config", "not a JSON object");
  IpamConfig c;
  c.strictAffinity = j.value("strict_affinity", false);
  c.autoAllocateBlocks = j.value("auto_allocate_blocks", true);
  return c;
}

Result<IpamConfig> IpamConfig::read(datastore::Client& client) {
  auto kv = client.get(kConfigKey);
  if (kv) return decode(kv->value);
  if (kv.code() == ErrorCode::kNotFound) return IpamConfig{};
  return kv.error();
}

std::string IpamConfig::encode() const {
  Json j = Json::object();
  j["strict_affinity"] = strictAffinity;
  j["auto_allocate_blocks"] = autoAllocateBlocks;
  return j.dump();
}

}  // namespace brindle::ipam
