// IPv4/IPv6 addresses and CIDRs: parsing, canonical text, containment and overlap.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace brindle {

class IpAddr {
 public:
  IpAddr() = default;
  // Accepts dotted IPv4 and any RFC 4291 IPv6 text. kInvalid otherwise.
  static Result<IpAddr> parse(std::string_view text);

  bool isV4() const { return v4_; }
  int bits() const { return v4_ ? 32 : 128; }
  // 4 (IPv4) or 16 (IPv6) significant bytes, network order.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  std::string toString() const;  // canonical: dotted quad, or RFC 5952 IPv6

  auto operator<=>(const IpAddr&) const = default;

 private:
  friend class Cidr;
  bool v4_ = true;
  std::array<uint8_t, 16> bytes_{};
};

class Cidr {
 public:
  Cidr() = default;
  // "a.b.c.d/n" or "v6/n". With allowBareIp, a plain address means /32 (/128).
  // Host bits set below the prefix are cleared ("10.1.2.3/16" -> "10.1.0.0/16").
  static Result<Cidr> parse(std::string_view text, bool allowBareIp = true);

  const IpAddr& address() const { return addr_; }
  int prefixLength() const { return prefix_; }
  bool isV4() const { return addr_.isV4(); }
  std::string toString() const;  // "10.1.0.0/16"

  bool contains(const IpAddr& ip) const;
  bool contains(const Cidr& other) const;  // other is inside this (same family)
  bool overlaps(const Cidr& other) const;

  auto operator<=>(const Cidr&) const = default;

 private:
  IpAddr addr_;
  int prefix_ = 0;
};

}  // namespace brindle
