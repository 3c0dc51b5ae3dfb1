// explain's output: the path as text for people, as JSON for tools.
#pragma once

#include <ostream>

#include "explain/live_path.h"
#include "explain/model_path.h"
#include "model/resource.h"

namespace brindle::explain {

void printModelPath(std::ostream& out, const ModelPath& path);
void printLivePath(std::ostream& out, const LivePath& path);

model::Json modelPathJson(const ModelPath& path);
model::Json livePathJson(const LivePath& path);

}  // namespace brindle::explain
