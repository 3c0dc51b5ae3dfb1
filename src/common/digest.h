// Message digests and their text form: SHA-256/SHA-224 name our kernel objects (rule hashes,
// ipset and chain names) the way Felix does, so the names are stable.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace brindle {

std::array<uint8_t, 32> sha256(std::string_view data);
std::array<uint8_t, 28> sha224(std::string_view data);

// RFC 4648 base64 with the URL-safe alphabet ('-', '_') and no padding, as Go's RawURLEncoding.
std::string base64Url(const uint8_t* data, size_t size);

}  // namespace brindle
