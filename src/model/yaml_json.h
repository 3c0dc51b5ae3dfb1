// YAML/JSON text <-> JSON values: typed reading of YAML scalars (quoted stays a string) and a
// calicoctl-style block YAML writer that quotes a string only when it would not read back as one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/resource.h"

namespace brindle::model {

// Parses every document of a YAML stream ('---' separated; JSON is read as YAML). Empty
// documents are skipped. kInvalid on a syntax error or a repeated mapping key, with a message
// "<sourceName>, line L, column C: <what>"; text starting with '{' or '[' gets a JSON error.
Result<std::vector<Json>> parseDocuments(std::string_view text, std::string_view sourceName);

// The JSON value a plain (unquoted) YAML scalar stands for: null, bool, integer, float, or the
// string itself (YAML 1.2 core schema).
Json plainScalarValue(const std::string& text);

// True if `text` written as a plain YAML scalar would not read back as this same string (it
// looks like a number, bool or null, or holds characters with meaning in YAML).
bool needsQuotes(std::string_view text);

// Block-style YAML of `value`, keys in insertion order, ending in a newline.
std::string writeYaml(const Json& value);

}  // namespace brindle::model
