// ProcessRunner in steps: spawn the program with its three pipes (from a thread inside the
// namespace, if one is asked for: the child inherits it), feed stdin while stdout and stderr
// drain in one poll loop (a large restore input never deadlocks against a chatty program), kill
// it on a refused gate or a timeout, and reap it.
#include "os/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "os/netns.h"

namespace brindle::os {
namespace {

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// A started program and our ends of its stdin, stdout and stderr; pid < 0 when it could not be
// executed (execErrno says why).
struct Child {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;
  int execErrno = 0;
};

Result<Child> spawn(const Command& command, const std::string& netns) {
  std::vector<char*> argv, envp;
  for (const auto& arg : command.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  for (const auto& var : command.env) envp.push_back(const_cast<char*>(var.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  int in[2], out[2], err[2];
  // stdin is a socket so that send(MSG_NOSIGNAL) reports a reader that quit instead of SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 ||
      ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return makeError(ErrorCode::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  // posix_spawn shares the agent's memory until exec (no copy of its page tables, no
  // copy-on-write faults afterwards): a few ms less per restore for a large agent.
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  ::posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  Child child;
  Status entered = runInNetns(netns, [&] {
    child.execErrno = ::posix_spawnp(&child.pid, argv[0], &actions, nullptr, argv.data(),
                                     command.env.empty() ? environ : envp.data());
    return Status::ok();
  });
  ::posix_spawn_file_actions_destroy(&actions);
  for (int fd : {in[0], out[1], err[1]}) ::close(fd);
  child.in = in[1], child.out = out[0], child.err = err[0];
  if (entered && child.execErrno == 0) {
    ::fcntl(child.in, F_SETFL, O_NONBLOCK);
    return child;
  }
  for (int* fd : {&child.in, &child.out, &child.err}) closeFd(*fd);
  if (!entered) return entered.error();
  child.pid = -1;
  return child;
}

// Writes Command::input to stdin as fast as the program reads, holding input[gateAt, end) back
// until the gate opens. The gate is called exactly once, whatever the program does.
struct StdinFeeder {
  StdinFeeder(const Command& c, int stdinFd)
      : command(c),
        fd(stdinFd),
        gated(static_cast<bool>(c.gate)),
        limit(gated ? std::min(c.gateAt, c.input.size()) : c.input.size()) {
    if (c.input.empty() && !gated) closeFd(fd);
  }

  // Asks the gate once everything ahead of it is written. False when it refused: the caller
  // kills the program before closing its stdin (end of input would let it commit a half).
  bool passGate() {
    if (!gated || written < limit) return true;
    gated = false;
    if (!command.gate()) return false;
    limit = command.input.size();
    if (written == limit) closeFd(fd);
    return true;
  }

  // stdin is writable: one send of what the gate allows.
  void write() {
    ssize_t w = ::send(fd, command.input.data() + written, limit - written, MSG_NOSIGNAL);
    if (w > 0) written += static_cast<size_t>(w);
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
      finish();  // the program quit early; the gate's work is still waited for
    } else if (written == command.input.size()) {
      closeFd(fd);
    }
  }

  // Closes stdin; a gate not asked yet is asked now (its answer no longer matters).
  void finish() {
    closeFd(fd);
    if (std::exchange(gated, false)) (void)command.gate();
  }

  const Command& command;
  int fd;
  bool gated;
  size_t limit;  // input[0, limit) may be written now
  size_t written = 0;
};

// One read of what is ready on fd into sink; closes fd at end of file.
void drain(int& fd, std::string& sink) {
  char buf[65536];
  ssize_t r = ::read(fd, buf, sizeof buf);
  if (r > 0) {
    sink.append(buf, static_cast<size_t>(r));
  } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
    closeFd(fd);
  }
}

// Feeds stdin and collects stdout and stderr until all three are closed; kills the program when
// the gate refuses or the timeout passes. Returns why it killed the program ("" if it did not).
std::string exchange(Child& child, const Command& command, CommandOutput& output) {
  const auto deadline = std::chrono::steady_clock::now() + command.timeout;
  StdinFeeder feeder(command, std::exchange(child.in, -1));
  std::string killedFor;
  while (feeder.fd >= 0 || child.out >= 0 || child.err >= 0) {
    if (!feeder.passGate()) {
      ::kill(child.pid, SIGKILL);
      killedFor = "stopped before its input was complete";
      feeder.finish();
    }
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (command.timeout.count() > 0 && left.count() <= 0) {
      ::kill(child.pid, SIGKILL);  // and no waiting for end of file: a grandchild may hold it
      killedFor = "timed out after " + std::to_string(command.timeout.count()) + " ms";
      break;
    }
    pollfd fds[3] = {{feeder.fd, POLLOUT, 0}, {child.out, POLLIN, 0}, {child.err, POLLIN, 0}};
    int wait =
        command.timeout.count() > 0 ? static_cast<int>(std::min<long>(left.count(), INT_MAX)) : -1;
    if (::poll(fds, 3, wait) < 0) {  // poll skips the closed (negative) descriptors
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0 && feeder.fd >= 0) feeder.write();
    if (fds[1].revents != 0) drain(child.out, output.out);
    if (fds[2].revents != 0) drain(child.err, output.err);
  }
  feeder.finish();
  closeFd(child.out);
  closeFd(child.err);
  return killedFor;
}

// Reaps the program: its exit code (128 + signal if killed) and, when it printed no error of
// its own, why it failed.
void reap(const Child& child, const Command& command, const std::string& killedFor,
          CommandOutput& output) {
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    output.exitCode = WEXITSTATUS(status);
    if (output.exitCode == 127 && output.err.empty()) output.err = "cannot exec " + command.argv[0];
  } else if (WIFSIGNALED(status)) {
    output.exitCode = 128 + WTERMSIG(status);
    if (!killedFor.empty() && output.err.empty()) output.err = killedFor;
  }
}

}  // namespace

std::string commandText(const Command& command) {
  std::string text;
  for (const auto& arg : command.argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

Result<CommandOutput> ProcessRunner::run(const Command& command) {
  if (command.argv.empty()) return makeError(ErrorCode::kInvalid, "empty command");
  BRINDLE_ASSIGN_OR_RETURN(auto child, spawn(command, netns_));
  CommandOutput output;
  if (child.pid < 0) {
    // As with fork + exec: a program that cannot be run is exit code 127, not an Error.
    output.exitCode = 127;
    output.err = "cannot exec " + command.argv[0] + ": " + std::strerror(child.execErrno);
    return output;
  }
  std::string killedFor = exchange(child, command, output);
  reap(child, command, killedFor, output);
  return output;
}

}  // namespace brindle::os
