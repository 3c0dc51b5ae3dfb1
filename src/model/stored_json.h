// Stored values: the JSON text the datastore holds for each resource, read by one path (the
// agent's syncer, the resource store and the CLI alike). The fast reader exists for the agent's
// cold start, where decoding every stored value is most of the work.
#pragma once

#include <string_view>

#include "model/resource.h"

namespace brindle::model {

// Parses `text` as Json::parse(text) would (same value, number types and member order), and
// throws what it throws on invalid input; the plain JSON the store holds at a fraction of the
// cost.
Json parseStoredJson(std::string_view text);

}  // namespace brindle::model
