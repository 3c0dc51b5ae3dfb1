// SHA-2 through Nettle; base64url by hand (Nettle's base64 has no URL-safe unpadded form).
// Nettle rather than OpenSSL's libcrypto: libcrypto's first digest initialises OpenSSL
// (configuration, providers), which makes a process ~3.5 MB bigger; Nettle's digest ~0.3 MB.
#include "common/digest.h"

#include <nettle/sha2.h>

namespace brindle {

std::array<uint8_t, 32> sha256(std::string_view data) {
  std::array<uint8_t, 32> out{};
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, data.size(), reinterpret_cast<const uint8_t*>(data.data()));
  sha256_digest(&ctx, out.size(), out.data());
  return out;
}

std::array<uint8_t, 28> sha224(std::string_view data) {
  std::array<uint8_t, 28> out{};
  sha256_ctx ctx;
  sha224_init(&ctx);
  sha224_update(&ctx, data.size(), reinterpret_cast<const uint8_t*>(data.data()));
  sha224_digest(&ctx, out.size(), out.data());
  return out;
}

std::string base64Url(const uint8_t* data, size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size - i == 1) {
    uint32_t v = uint32_t(data[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (size - i == 2) {
    uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

}  // namespace brindle
