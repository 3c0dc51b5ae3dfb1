// Reading and writing resources as text: YAML or JSON; one document, several '---' documents, a
// YAML/JSON list, or a v3 `List`; the seed's apiVersion v1 form or projectcalico.org/v3.
// Everything read is converted to v3, defaulted and validated; one bad document rejects the lot.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/resource.h"

namespace brindle::model {

struct DecodedResources {
  std::vector<Resource> resources;    // in file order
  std::vector<std::string> warnings;  // "<source>, document N: <what>" (conversions, lint)
  std::vector<std::string> inputKinds;  // each resource's kind as its document spelled it
                                        // ("workloadEndpoint" for v1), for messages
};

// Parses `text` (named `sourceName` in messages, e.g. "endpoints.yaml" or "stdin"). On any error
// returns kInvalid with a message "<source>, document N: <field path>: <what>" (N is 1-based and
// counts list items too), e.g.
//   endpoints.yaml, document 2: spec.ipNetworks[0]: "172.16.1.300" is not an IP address
Result<DecodedResources> decodeResources(std::string_view text, std::string_view sourceName);

// Output encodings of a v3 JSON value (a resource's toJson(), or a List of them).
std::string encodeYaml(const Json& value);
std::string encodeJson(const Json& value);  // pretty-printed, 2-space indent, trailing newline

}  // namespace brindle::model
