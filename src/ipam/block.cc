// IPAM records: address arithmetic, keys, and the JSON codec of blocks, handles and config.
#include "ipam/block.h"

#include <algorithm>
#include <cstdio>

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

Uint128 toInteger(const IpAddr& ip) {
  Uint128 v = 0;
  const int n = ip.isV4() ? 4 : 16;
  for (int i = 0; i < n; ++i) v = (v << 8) | ip.bytes()[i];
  return v;
}

IpAddr fromInteger(Uint128 value, bool v4) {
  char text[64];
  if (v4) {
    const auto x = static_cast<uint32_t>(value);
    std::snprintf(text, sizeof text, "%u.%u.%u.%u", x >> 24, (x >> 16) & 0xff, (x >> 8) & 0xff,
                  x & 0xff);
  } else {
    unsigned g[8];
    for (int i = 7; i >= 0; --i) {
      g[i] = static_cast<unsigned>(value & 0xffff);
      value >>= 16;
    }
    std::snprintf(text, sizeof text, "%x:%x:%x:%x:%x:%x:%x:%x", g[0], g[1], g[2], g[3], g[4], g[5],
                  g[6], g[7]);
  }
  auto ip = IpAddr::parse(text);
  BRINDLE_CHECK(ip, std::string("formatted an unparsable address ") + text);
  return *ip;
}

Uint128 cidrSize(const Cidr& cidr) {
  const int hostBits = cidr.address().bits() - cidr.prefixLength();
  if (hostBits >= 128) return ~Uint128(0);
  return Uint128(1) << hostBits;
}

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
  for (const auto& c : cidrs_) {
    if (c.contains(ip)) return true;
  }
  return false;
}

bool ReservedRanges::coversWhole(const Cidr& block) const {
  for (const auto& c : cidrs_) {
    if (c.contains(block)) return true;
  }
  return false;
}

bool ReservedRanges::touches(const Cidr& block) const {
  for (const auto& c : cidrs_) {
    if (c.overlaps(block)) return true;
  }
  return false;
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

Result<Block> Block::decode(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt("block", "not a JSON object");
  Block b;
  try {
    auto c = Cidr::parse(j.at("cidr").get<std::string>(), false);
    if (!c) return corrupt("block", c.message());
    b.cidr_ = *c;
    if (j.contains("affinity") && j["affinity"].is_string()) {
      b.affinity_ = j["affinity"].get<std::string>();
    }
    const int n = static_cast<int>(cidrSize(b.cidr_));
    for (const auto& a : j.at("allocations"))
      b.allocations_.push_back(a.is_null() ? -1 : a.get<int>());
    if (static_cast<int>(b.allocations_.size()) != n) {
      return corrupt("block " + c->toString(), "allocations has the wrong length");
    }
    b.unallocated_ = j.at("unallocated").get<std::vector<int>>();
    if (j.contains("attributes") && j["attributes"].is_array()) {
      for (const auto& a : j["attributes"]) {
        AllocationAttribute attr;
        if (a.contains("handle_id") && a["handle_id"].is_string()) {
          attr.handle = a["handle_id"].get<std::string>();
        }
        if (a.contains("secondary") && a["secondary"].is_object()) {
          attr.secondary = a["secondary"].get<std::map<std::string, std::string>>();
        }
        b.attributes_.push_back(std::move(attr));
      }
    }
    b.sequence_ = j.value("sequenceNumber", uint64_t{0});
    if (j.contains("sequenceNumberForAllocation") && j["sequenceNumberForAllocation"].is_object()) {
      b.sequenceForAllocation_ =
          j["sequenceNumberForAllocation"].get<std::map<std::string, uint64_t>>();
    }
  } catch (const Json::exception& e) {
    return corrupt("block", e.what());
  }
  const int nattr = static_cast<int>(b.attributes_.size());
  for (int a : b.allocations_) {
    if (a < -1 || a >= nattr) return corrupt("block " + b.cidr_.toString(), "bad attribute index");
  }
  for (int u : b.unallocated_) {
    if (u < 0 || u >= b.size() || b.allocations_[u] != -1) {
      return corrupt("block " + b.cidr_.toString(), "unallocated lists a taken ordinal");
    }
  }
  return b;
}

std::string Block::encode() const {
  Json j = Json::object();
  j["cidr"] = cidr_.toString();
  j["affinity"] = affinity_ ? Json(*affinity_) : Json(nullptr);
  Json allocs = Json::array();
  for (int a : allocations_) allocs.push_back(a < 0 ? Json(nullptr) : Json(a));
  j["allocations"] = std::move(allocs);
  j["unallocated"] = unallocated_;
  Json attrs = Json::array();
  for (const auto& a : attributes_) {
    Json x = Json::object();
    x["handle_id"] = a.handle ? Json(*a.handle) : Json(nullptr);
    x["secondary"] = a.secondary;
    attrs.push_back(std::move(x));
  }
  j["attributes"] = std::move(attrs);
  j["sequenceNumber"] = sequence_;
  j["sequenceNumberForAllocation"] = sequenceForAllocation_;
  j["deleted"] = false;
  return j.dump();
}

int Block::numFree(const ReservedRanges& reserved) const {
  if (reserved.coversWhole(cidr_)) return 0;
  if (!reserved.touches(cidr_)) return static_cast<int>(unallocated_.size());
  int n = 0;
  for (int o : unallocated_) {
    if (!reserved.contains(ordinalToIp(o))) ++n;
  }
  return n;
}

IpAddr Block::ordinalToIp(int ordinal) const {
  return fromInteger(toInteger(cidr_.address()) + static_cast<Uint128>(ordinal), cidr_.isV4());
}

std::optional<int> Block::ipToOrdinal(const IpAddr& ip) const {
  if (!cidr_.contains(ip)) return std::nullopt;
  return static_cast<int>(toInteger(ip) - toInteger(cidr_.address()));
}

const AllocationAttribute* Block::attributeOf(int ordinal) const {
  if (ordinal < 0 || ordinal >= size() || allocations_[ordinal] < 0) return nullptr;
  return &attributes_[allocations_[ordinal]];
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

std::map<std::string, int> Block::countsByHandle() const {
  std::map<std::string, int> out;
  for (int a : allocations_) {
    if (a >= 0) out[attributes_[a].handle.value_or("")]++;
  }
  return out;
}

std::vector<int> Block::allocatedOrdinals() const {
  std::vector<int> out;
  for (int o = 0; o < size(); ++o) {
    if (allocations_[o] >= 0) out.push_back(o);
  }
  return out;
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
