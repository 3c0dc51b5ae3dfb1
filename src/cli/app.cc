// brindlectl's command line: CLI11 wiring of the commands in commands.h.
#include "cli/app.h"

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/explain_command.h"
#include "cli/ipam_commands.h"
#include "cli/node_commands.h"
#include "cli/plan_command.h"

namespace brindle::cli {
namespace {

void addFileOption(CLI::App* cmd, std::vector<std::string>& files, bool required) {
  auto* opt = cmd->add_option("-f,--filename", files,
                              "File, directory or '-' (stdin) of YAML/JSON resources");
  if (required) opt->required();
}

void addTarget(CLI::App* cmd, Target& t, bool nameRequired) {
  cmd->add_option("kind", t.kind, "Resource kind (e.g. ipPool, workloadEndpoint, policy)")
      ->required(nameRequired);
  cmd->add_option("name", t.name, "Resource name")->required(nameRequired);
  cmd->add_option("-n,--namespace", t.ns, "Namespace of namespaced kinds")->capture_default_str();
}

}  // namespace

int runBrindlectl(const std::vector<std::string>& args, Io& io) {
  CLI::App app{"brindlectl: manage Brindle (Calico-compatible) network resources", "brindlectl"};
  app.require_subcommand(1);
  app.fallthrough();
  std::string configPath;
  app.add_option("-c,--config", configPath,
                 "Client config file (default /etc/brindle/brindlectl.cfg, else environment)");

  WriteCommand create, apply, replace, remove;
  create.mode = resources::WriteMode::kCreate;
  apply.mode = resources::WriteMode::kApply;
  replace.mode = resources::WriteMode::kReplace;
  remove.mode = resources::WriteMode::kDelete;
  auto* createCmd = app.add_subcommand("create", "Create resources from files");
  addFileOption(createCmd, create.files, true);
  createCmd->add_flag("--skip-exists", create.skipExists, "Skip resources that already exist");
  auto* applyCmd = app.add_subcommand("apply", "Create or update resources from files");
  addFileOption(applyCmd, apply.files, true);
  auto* replaceCmd = app.add_subcommand("replace", "Replace existing resources from files");
  addFileOption(replaceCmd, replace.files, true);
  auto* deleteCmd = app.add_subcommand("delete", "Delete resources named in files or by KIND NAME");
  addFileOption(deleteCmd, remove.files, false);
  addTarget(deleteCmd, remove.target, false);
  deleteCmd->add_flag("--skip-not-exists", remove.skipNotExists,
                      "Skip resources that do not exist");

  GetCommand get;
  auto* getCmd = app.add_subcommand("get", "Show resources");
  addTarget(getCmd, get.target, false);
  addFileOption(getCmd, get.files, false);
  getCmd->add_option("-o,--output", get.output, "ps, wide, yaml or json")->capture_default_str();
  getCmd->add_option("--node", get.node, "Only resources of this node");
  getCmd->add_option("--workload", get.workload, "Only endpoints of this workload");
  getCmd->add_option("--orchestrator", get.orchestrator, "Only endpoints of this orchestrator");
  getCmd->add_option("--scope", get.scope, "bgpPeers: global or node")
      ->check(CLI::IsMember({"global", "node"}));
  getCmd->add_flag("-A,--all-namespaces", get.allNamespaces, "Every namespace");

  PatchCommand patch;
  auto* patchCmd = app.add_subcommand("patch", "Patch a resource with a JSON merge patch");
  addTarget(patchCmd, patch.target, true);
  patchCmd->add_option("-p,--patch", patch.patch, "JSON merge patch, e.g. '{\"spec\":{...}}'")
      ->required();

  LabelCommand label;
  auto* labelCmd = app.add_subcommand("label", "Set or remove a label of a resource");
  addTarget(labelCmd, label.target, true);
  labelCmd->add_option("label", label.label, "key=value, or key with --remove")->required();
  labelCmd->add_flag("--overwrite", label.overwrite, "Change an existing label");
  labelCmd->add_flag("--remove", label.remove, "Remove the label");

  ConvertCommand convert;
  auto* convertCmd =
      app.add_subcommand("convert", "Print resources converted to projectcalico.org/v3");
  addFileOption(convertCmd, convert.files, true);
  convertCmd->add_option("-o,--output", convert.output, "yaml or json")->capture_default_str();

  auto* versionCmd = app.add_subcommand("version", "Show client and cluster versions");

  std::string configKey, configValue, configNode;
  auto* configCmd = app.add_subcommand("config", "Get or set global settings");
  configCmd->require_subcommand(1);
  auto* configGet = configCmd->add_subcommand("get", "Show a setting");
  configGet->add_option("key", configKey, "asNumber, nodeToNodeMesh, logLevel or ipip")->required();
  configGet->add_option("--node", configNode, "Node-specific value (logLevel)");
  auto* configSet = configCmd->add_subcommand("set", "Change a setting");
  configSet->add_option("key", configKey, "asNumber, nodeToNodeMesh, logLevel or ipip")->required();
  configSet->add_option("value", configValue, "New value")->required();
  configSet->add_option("--node", configNode, "Node-specific value (logLevel)");

  auto ipamCommands = addIpamCommands(app);
  auto nodeCommands = addNodeCommands(app);
  auto explainCommand = addExplainCommand(app);
  auto planCommand = addPlanCommand(app);

  std::vector<std::string> argvStore = {"brindlectl"};
  argvStore.insert(argvStore.end(), args.begin(), args.end());
  std::vector<const char*> argv;
  for (const auto& a : argvStore) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    io.out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    io.out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    io.err << "Invalid option: " << e.what() << "\n"
           << "Run 'brindlectl --help' for usage.\n";
    return 1;
  }

  Session session(io, configPath);
  if (createCmd->parsed()) return runWrite(session, create);
  if (applyCmd->parsed()) return runWrite(session, apply);
  if (replaceCmd->parsed()) return runWrite(session, replace);
  if (deleteCmd->parsed()) return runWrite(session, remove);
  if (getCmd->parsed()) {
    if (get.target.kind.empty() && get.files.empty()) {
      io.err << "Invalid option: get needs KIND [NAME] or -f FILE\n";
      return 1;
    }
    return runGet(session, get);
  }
  if (patchCmd->parsed()) return runPatch(session, patch);
  if (labelCmd->parsed()) return runLabel(session, label);
  if (convertCmd->parsed()) return runConvert(session, convert);
  if (versionCmd->parsed()) return runVersion(session);
  if (configGet->parsed()) return runConfigGet(session, configKey, configNode);
  if (configSet->parsed()) return runConfigSet(session, configKey, configValue, configNode);
  if (ipamCommands->parsed()) return ipamCommands->run(session);
  if (nodeCommands->parsed()) return nodeCommands->run(session);
  if (explainCommand->parsed()) return explainCommand->run(session);
  if (planCommand->parsed()) return planCommand->run(session);
  io.err << "No command given. Run 'brindlectl --help' for usage.\n";
  return 1;
}

}  // namespace brindle::cli
