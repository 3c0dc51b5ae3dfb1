// The stored AllocationBlock: address arithmetic and the JSON codec; see ipam_block.h.
#include "model/ipam_block.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/check.h"

namespace brindle::model {
namespace {

using Json = nlohmann::json;

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

Result<IpamBlockView> IpamBlockView::decode(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt("block", "not a JSON object");
  IpamBlockView b;
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

std::string IpamBlockView::encode() const {
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

IpAddr IpamBlockView::ordinalToIp(int ordinal) const {
  return fromInteger(toInteger(cidr_.address()) + static_cast<Uint128>(ordinal), cidr_.isV4());
}

std::optional<int> IpamBlockView::ipToOrdinal(const IpAddr& ip) const {
  if (!cidr_.contains(ip)) return std::nullopt;
  return static_cast<int>(toInteger(ip) - toInteger(cidr_.address()));
}

const AllocationAttribute* IpamBlockView::attributeOf(int ordinal) const {
  if (ordinal < 0 || ordinal >= size() || allocations_[ordinal] < 0) return nullptr;
  return &attributes_[allocations_[ordinal]];
}

std::map<std::string, int> IpamBlockView::countsByHandle() const {
  std::map<std::string, int> out;
  for (int a : allocations_) {
    if (a >= 0) out[attributes_[a].handle.value_or("")]++;
  }
  return out;
}

std::vector<int> IpamBlockView::allocatedOrdinals() const {
  std::vector<int> out;
  for (int o = 0; o < size(); ++o) {
    if (allocations_[o] >= 0) out.push_back(o);
  }
  return out;
}

}  // namespace brindle::model
