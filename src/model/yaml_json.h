// YAML/JSON text <-> JSON values: typed reading of YAML scalars (quoted stays a string) and a
// calicoctl-style block YAML writer that quotes a string only when it would not read back as one.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/resource.h"

namespace brindle::model {

// What a reader of YAML or JSON accepts at most, so that hostile input (an alias bomb, deep
// nesting, a huge file) fails at once with a clear error instead of exhausting memory or stack.
// A resource file far larger than any real one still fits (docs/brindlectl.md, "Limits").
struct ParseLimits {
  size_t maxBytes = 16 << 20;  // one file, stdin or value
  int maxDepth = 64;           // mappings and sequences nested in one another
  size_t maxValues = 2'000'000;
  // Values read again through YAML aliases: allowed up to this many, or as many as the values
  // written out in the text, whichever is more (a document that reuses a block a few times is
  // fine; nine levels of ten aliases each are a billion values).
  size_t maxAliasValues = 100'000;
};

// Parses every document of a YAML stream ('---' separated; JSON is read as YAML). Empty
// documents are skipped. kInvalid on a syntax error, a repeated mapping key or input beyond
// `limits`, with a message "<sourceName>, line L, column C: <what>"; text starting with '{' or
// '[' gets a JSON error.
Result<std::vector<Json>> parseDocuments(std::string_view text, std::string_view sourceName,
                                         const ParseLimits& limits = {});

// Parses one JSON text within `limits` (size, nesting depth). kInvalid with "<sourceName>, line
// L, column C: ..." on a syntax error.
Result<Json> parseJson(std::string_view text, std::string_view sourceName,
                       const ParseLimits& limits = {});

// Reads all of `in` (a file, stdin) into a string, refusing more than `maxBytes` before it is
// read: "<sourceName> is larger than N MiB".
Result<std::string> readLimited(std::istream& in, std::string_view sourceName,
                                size_t maxBytes = ParseLimits{}.maxBytes);

// The JSON value a plain (unquoted) YAML scalar stands for: null, bool, integer, float, or the
// string itself (YAML 1.2 core schema).
Json plainScalarValue(const std::string& text);

// True if `text` written as a plain YAML scalar would not read back as this same string (it
// looks like a number, bool or null, or holds characters with meaning in YAML).
bool needsQuotes(std::string_view text);

// Block-style YAML of `value`, keys in insertion order, ending in a newline.
std::string writeYaml(const Json& value);

}  // namespace brindle::model
