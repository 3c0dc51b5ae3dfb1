// brindlectl plan: the BGP sessions and kernel routes of a fabric design (src/plan/plan.h), from
// its shape or from the cluster in the datastore (docs/plan.md).
#pragma once

#include <memory>

#include "cli/session.h"

namespace CLI {
class App;
}

namespace brindle::cli {

// The `plan` subcommand on a brindlectl command line, as IpamCommands.
class PlanCommand {
 public:
  virtual ~PlanCommand() = default;
  virtual bool parsed() const = 0;
  virtual int run(Session& session) = 0;
};
std::unique_ptr<PlanCommand> addPlanCommand(CLI::App& app);

}  // namespace brindle::cli
