// The `get -o ps|wide` columns of each kind: calicoctl's headings, the seed's v1 ones for the
// kinds the seed shows (e.g. workloadEndpoint: NODE ORCHESTRATOR WORKLOAD NAME ...).
#pragma once

#include <string>
#include <vector>

#include "cli/table.h"
#include "model/resource.h"

namespace brindle::cli {

struct TableContext {
  std::string globalAsNumber = "64512";  // shown as "(64512)" for nodes without their own AS
  bool allNamespaces = false;            // add a NAMESPACE column to namespaced kinds
};

Row tableHeader(model::Kind kind, bool wide, const TableContext& ctx);
Row tableRow(const model::Resource& resource, bool wide, const TableContext& ctx);

}  // namespace brindle::cli
