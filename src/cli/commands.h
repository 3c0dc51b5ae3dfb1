// brindlectl's commands, each a function over a Session and its parsed options.
#pragma once

#include <string>
#include <vector>

#include "cli/session.h"
#include "resources/resource_store.h"

namespace brindle::cli {

// Which resource a command names on the command line (KIND [NAME] [-n NAMESPACE]).
struct Target {
  std::string kind;
  std::string name;
  std::string ns = "default";
};

struct WriteCommand {
  resources::WriteMode mode = resources::WriteMode::kCreate;
  std::vector<std::string> files;
  Target target;  // delete KIND NAME, when no files are given
  bool skipExists = false;
  bool skipNotExists = false;
};
int runWrite(Session& session, const WriteCommand& cmd);

struct GetCommand {
  Target target;
  std::vector<std::string> files;
  std::string output = "ps";  // ps | wide | yaml | json
  std::string node, workload, orchestrator, scope;
  bool allNamespaces = false;
};
int runGet(Session& session, const GetCommand& cmd);

struct PatchCommand {
  Target target;
  std::string patch;  // JSON merge patch (RFC 7386)
};
int runPatch(Session& session, const PatchCommand& cmd);

struct LabelCommand {
  Target target;
  std::string label;  // key=value, or key with remove
  bool overwrite = false;
  bool remove = false;
};
int runLabel(Session& session, const LabelCommand& cmd);

struct ConvertCommand {
  std::vector<std::string> files;
  std::string output = "yaml";
};
int runConvert(Session& session, const ConvertCommand& cmd);

int runConfigGet(Session& session, const std::string& key, const std::string& node);
int runConfigSet(Session& session, const std::string& key, const std::string& value,
                 const std::string& node);

int runVersion(Session& session);

}  // namespace brindle::cli
