// Finding the resource a user names on the command line: by its v3 name, or by the identity the
// seed's v1 form used (a pool's CIDR, a peer's IP, an endpoint's name, a policy without its
// `default.` tier prefix).
#pragma once

#include <string>

#include "common/result.h"
#include "model/kinds.h"
#include "resources/resource_store.h"

namespace brindle::cli {

Result<model::Kind> parseKind(const std::string& typed);

Result<model::Resource> findResource(resources::ResourceStore& store, model::Kind kind,
                                     const std::string& ns, const std::string& name);

// "IPPool" or, for a batch of mixed kinds, empty.
std::string batchKindName(const std::vector<model::Resource>& batch);

}  // namespace brindle::cli
