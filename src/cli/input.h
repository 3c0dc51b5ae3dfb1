// Reading `-f` arguments: a file, a directory (its *.yaml, *.yml and *.json files, sorted), or
// "-" for standard input; all of them decoded into one batch, all or nothing.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "common/result.h"
#include "model/codec.h"

namespace brindle::cli {

Result<model::DecodedResources> readResourceFiles(const std::vector<std::string>& paths,
                                                  std::istream& stdinStream);

}  // namespace brindle::cli
