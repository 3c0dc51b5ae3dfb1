// Fast decoding of stored resource values into model::Json: the result (and any exception) is
// exactly model::Json::parse's, at a fraction of the cost for the plain JSON the store holds.
#pragma once

#include <string_view>

#include "model/resource.h"

namespace brindle::calc {

// Parses `text` as model::Json::parse(text) would; throws what it throws on invalid input.
model::Json parseJson(std::string_view text);

}  // namespace brindle::calc
