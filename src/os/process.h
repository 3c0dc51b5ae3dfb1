// Child processes: run a program with arguments and stdin and capture what it printed, on the
// host or inside a network namespace (the iptables and ipset writers' seam to their tools).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"

namespace brindle::os {

struct Command {
  Command() = default;
  Command(std::vector<std::string> a, std::string in = "")
      : argv(std::move(a)), input(std::move(in)) {}

  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  std::string input;              // written to the program's stdin, then stdin is closed
  std::vector<std::string> env;   // "KEY=value", the program's whole environment; empty: ours
  // Optional gate: only input[0, gateAt) is written before gate() is called; the rest follows
  // when it returns true. When it returns false the program is killed before reading the rest
  // (exit code 128 + SIGKILL). This lets the program parse the first part while the caller
  // finishes work the rest depends on (iptables-restore parses while ipsets are filled).
  size_t gateAt = 0;
  std::function<bool()> gate;
  // Zero waits for ever; else the program is killed (exit code 128 + SIGKILL) once it has run
  // this long.
  std::chrono::milliseconds timeout{0};
};

struct CommandOutput {
  int exitCode = 0;  // 128 + signal number if the program was killed
  std::string out;
  std::string err;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // An Error only when the program could not be run at all (fork, exec, namespace entry); a
  // program that ran and failed is a CommandOutput with a non-zero exitCode.
  virtual Result<CommandOutput> run(const Command& command) = 0;
};

// Runs real programs. With a non-empty netns (netns.h) they start inside that namespace, so the
// same writer drives the host or a test namespace.
class ProcessRunner : public CommandRunner {
 public:
  explicit ProcessRunner(std::string netns = "") : netns_(std::move(netns)) {}
  Result<CommandOutput> run(const Command& command) override;

 private:
  std::string netns_;
};

// "cmd arg1 arg2" for error messages.
std::string commandText(const Command& command);

}  // namespace brindle::os
