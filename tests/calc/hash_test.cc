// Tests of calc/hash: SHA-2 test vectors, base64url, Calico-style ids and shortened names.
#include "calc/hash.h"

#include <gtest/gtest.h>

namespace brindle::calc {
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

TEST(Hash, Sha256Vectors) {
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

TEST(Hash, Sha224Vector) {
  auto a = sha224("abc");
  EXPECT_EQ(hexOf(a.data(), a.size()), "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
}

TEST(Hash, Base64Url) {
  const uint8_t d[] = {0xfb, 0xff, 0xfe};
  EXPECT_EQ(base64Url(d, 3), "-__-");
  EXPECT_EQ(base64Url(d, 1), "-w");
  EXPECT_EQ(base64Url(d, 2), "-_8");
}

TEST(Hash, UniqueIdShape) {
  std::string id = uniqueId("s", "namespace == \"default\"");
  EXPECT_EQ(id.substr(0, 2), "s:");
  EXPECT_EQ(id.size(), 2u + 38u);  // 28 bytes -> 38 base64 characters
  EXPECT_EQ(id, uniqueId("s", "namespace == \"default\""));
  EXPECT_NE(id, uniqueId("s", "namespace == \"other\""));
}

TEST(Hash, LengthLimitedId) {
  EXPECT_EQ(lengthLimitedId("cali-pi-", "namespace-default", 28), "cali-pi-namespace-default");
  std::string longName = lengthLimitedId("cali-pi-", "a-very-long-policy-name-indeed", 28);
  EXPECT_EQ(longName.size(), 28u);
  EXPECT_EQ(longName.substr(0, 9), "cali-pi-_");
  // Exactly at the limit but starting with '_' is hashed too, so it cannot clash.
  std::string underscored = lengthLimitedId("p-", "_bc", 5);
  EXPECT_EQ(underscored.substr(0, 3), "p-_");
  EXPECT_NE(underscored, "p-_bc");
}

}  // namespace
}  // namespace brindle::calc
