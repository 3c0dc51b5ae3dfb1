// Content hashes that name our kernel objects the way Felix does: SHA-224 in URL-safe base64 for
// ipset ids, rule-hash comments and shortened chain names, so names are stable across restarts.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/digest.h"

namespace brindle::calc {

// "<prefix>:<base64url(sha224(content))>", e.g. uniqueId("s", "a == \"x\"") for a selector ipset.
// The ipset name truncates it (cali40s:... is 31 characters).
std::string uniqueId(std::string_view prefix, std::string_view content);

// `prefix + suffix` if it fits in maxLength, else prefix + "_" + a SHA-256 of the suffix cut to
// fit (also when it fits exactly but the suffix starts with '_', so shortened names never clash).
std::string lengthLimitedId(std::string_view prefix, std::string_view suffix, size_t maxLength);

}  // namespace brindle::calc
