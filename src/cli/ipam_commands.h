// brindlectl ipam: show, release, check and configure, as calicoctl ipam does them.
#pragma once

#include <memory>
#include <string>

#include "cli/session.h"

namespace CLI {
class App;
}

namespace brindle::cli {

struct IpamShowCommand {
  std::string ip;
  bool showBlocks = false;
  bool showConfiguration = false;
};
int runIpamShow(Session& session, const IpamShowCommand& cmd);

int runIpamRelease(Session& session, const std::string& ip);

struct IpamCheckCommand {
  bool fix = false;  // release what the check finds, after a confirmation on stdin
  bool yes = false;  // ... without asking
};
int runIpamCheck(Session& session, const IpamCheckCommand& cmd);

int runIpamConfigure(Session& session, const std::string& strictAffinity);

// The `ipam` subcommand tree on a brindlectl command line; after parsing, run() executes the
// chosen command. Keeps app.cc's part to two lines.
class IpamCommands {
 public:
  virtual ~IpamCommands() = default;
  virtual bool parsed() const = 0;
  virtual int run(Session& session) = 0;
};
std::unique_ptr<IpamCommands> addIpamCommands(CLI::App& app);

}  // namespace brindle::cli
