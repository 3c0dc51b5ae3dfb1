// brindlectl explain FROM TO PROTO[/PORT]: which rule decides a packet, in the model and, with
// --live, in the kernel of the node(s) involved (src/explain, docs/explain.md).
#pragma once

#include <memory>

#include "cli/session.h"

namespace CLI {
class App;
}

namespace brindle::cli {

class ExplainCommand {
 public:
  virtual ~ExplainCommand() = default;
  virtual bool parsed() const = 0;
  virtual int run(Session& session) = 0;
};
std::unique_ptr<ExplainCommand> addExplainCommand(CLI::App& app);

}  // namespace brindle::cli
