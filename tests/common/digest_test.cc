// SHA-2 test vectors (FIPS 180-4) and base64url.
#include "common/digest.h"

#include <gtest/gtest.h>

namespace brindle {
namespace {

std::string hexOf(const uint8_t* d, size_t n) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += k[d[i] >> 4];
    s += k[d[i] & 15];
  }
  return s;
}

TEST(DigestTest, Sha256Vectors) {
  auto e = sha256("");
  EXPECT_EQ(hexOf(e.data(), e.size()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto a = sha256("abc");
  EXPECT_EQ(hexOf(a.data(), a.size()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Two-block message (56 bytes forces the length into a second block).
  auto l = sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  EXPECT_EQ(hexOf(l.data(), l.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(DigestTest, Sha224Vector) {
  auto a = sha224("abc");
  EXPECT_EQ(hexOf(a.data(), a.size()), "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
}

TEST(DigestTest, Base64Url) {
  const uint8_t d[] = {0xfb, 0xff, 0xfe};
  EXPECT_EQ(base64Url(d, 3), "-__-");
  EXPECT_EQ(base64Url(d, 1), "-w");
  EXPECT_EQ(base64Url(d, 2), "-_8");
}

}  // namespace
}  // namespace brindle
