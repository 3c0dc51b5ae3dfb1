// SHA-256 of a byte string: the digest behind rule hashes (chain.h); small and dependency-free.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace brindle::dataplane {

std::array<uint8_t, 32> sha256(std::string_view data);

}  // namespace brindle::dataplane
