// IP parsing with inet_pton; prefix arithmetic on byte arrays.
#include "common/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace brindle {
namespace {

bool prefixMatch(const IpAddr& a, const IpAddr& b, int prefix) {
  const auto& x = a.bytes();
  const auto& y = b.bytes();
  int full = prefix / 8;
  for (int i = 0; i < full; ++i) {
    if (x[i] != y[i]) return false;
  }
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (x[full] & mask) == (y[full] & mask);
}

}  // namespace

Result<IpAddr> IpAddr::parse(std::string_view text) {
  std::string s(text);
  IpAddr ip;
  if (s.find(':') == std::string::npos) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) {
      return makeError(ErrorCode::kInvalid, "\"" + s + "\" is not an IP address");
    }
    ip.v4_ = true;
    std::memcpy(ip.bytes_.data(), &a, 4);
  } else {
    in6_addr a{};
    if (inet_pton(AF_INET6, s.c_str(), &a) != 1) {
      return makeError(ErrorCode::kInvalid, "\"" + s + "\" is not an IP address");
    }
    ip.v4_ = false;
    std::memcpy(ip.bytes_.data(), &a, 16);
  }
  return ip;
}

std::string IpAddr::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4_ ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf));
  return buf;
}

Result<Cidr> Cidr::parse(std::string_view text, bool allowBareIp) {
  const std::string s(text);
  const auto slash = text.find('/');
  if (slash == std::string_view::npos && !allowBareIp) {
    return makeError(ErrorCode::kInvalid, "\"" + s + "\" is not a CIDR (expected address/prefix)");
  }
  auto ip = IpAddr::parse(text.substr(0, slash));
  if (!ip) {
    return makeError(ErrorCode::kInvalid, "\"" + s + "\" is not a CIDR");
  }
  Cidr c;
  c.addr_ = *ip;
  c.prefix_ = ip->bits();
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    int n = -1;
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
    if (len.empty() || ec != std::errc() || end != len.data() + len.size() || n < 0 ||
        n > ip->bits()) {
      return makeError(ErrorCode::kInvalid, "\"" + s + "\" has an invalid prefix length");
    }
    c.prefix_ = n;
  }
  // Clear host bits.
  auto& b = c.addr_.bytes_;
  for (int bit = c.prefix_; bit < c.addr_.bits(); ++bit) {
    b[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  return c;
}

std::string Cidr::toString() const { return addr_.toString() + "/" + std::to_string(prefix_); }

bool Cidr::contains(const IpAddr& ip) const {
  return ip.isV4() == isV4() && prefixMatch(addr_, ip, prefix_);
}

bool Cidr::contains(const Cidr& other) const {
  return other.isV4() == isV4() && other.prefix_ >= prefix_ &&
         prefixMatch(addr_, other.addr_, prefix_);
}

bool Cidr::overlaps(const Cidr& other) const { return contains(other) || other.contains(*this); }

}  // namespace brindle
