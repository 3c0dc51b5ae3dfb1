// ProcessRunner in four steps: spawn the program with its three pipes (in a namespace if asked),
// feed stdin while stdout and stderr drain in one poll loop (so a large restore input never
// deadlocks against a chatty program), kill it on a refused gate or a timeout, and wait for it.
#include "os/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
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

Error sysError(const std::string& what) {
  return makeError(ErrorCode::kInternal, what + ": " + std::strerror(errno));
}

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// A started program and our ends of its stdin, stdout and stderr; pid < 0 when the program could
// not be executed (execErrno says why).
struct Child {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;
  int execErrno = 0;
};

Result<Child> spawn(const std::vector<std::string>& args, const std::string& netns) {
  // Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int nsFd = -1;
  if (!netns.empty()) {
    auto fd = openNetns(netns);
    if (!fd) return fd.error();
    nsFd = *fd;
  }
  int in[2], out[2], err[2];
  // stdin is a socket so that send(MSG_NOSIGNAL) reports a reader that quit instead of SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) return sysError("socketpair");
  if (::pipe2(out, O_CLOEXEC) != 0) return sysError("pipe");
  if (::pipe2(err, O_CLOEXEC) != 0) return sysError("pipe");

  Child child;
  if (nsFd < 0) {
    // posix_spawn shares the agent's memory until exec (no copy of its page tables, no
    // copy-on-write faults afterwards): a few ms less per restore for a large agent.
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    ::posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    int rc = ::posix_spawnp(&child.pid, argv[0], &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) ::close(fd);
      return Child{.pid = -1, .execErrno = rc};
    }
  } else {
    child.pid = ::fork();
    if (child.pid < 0) return sysError("fork");
    if (child.pid == 0) {
      if (::setns(nsFd, CLONE_NEWNET) != 0) _exit(126);
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execvp(argv[0], argv.data());
      _exit(127);
    }
    ::close(nsFd);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  child.in = in[1];
  child.out = out[0];
  child.err = err[0];
  ::fcntl(child.in, F_SETFL, O_NONBLOCK);
  return child;
}

// Writes Command::input to the program's stdin as fast as it reads, holding input[gateAt, end)
// back until the gate opens. The gate is called exactly once, whatever the program does.
class StdinFeeder {
 public:
  StdinFeeder(const Command& command, int fd)
      : command_(command),
        fd_(fd),
        gated_(static_cast<bool>(command.gate)),
        limit_(gated_ ? std::min(command.gateAt, command.input.size()) : command.input.size()) {
    if (command.input.empty() && !gated_) closeFd(fd_);
  }

  int fd() const { return fd_; }

  // Asks the gate once everything ahead of it is written. False when it refused: the caller
  // kills the program before closing its stdin (end of input would let it commit a half).
  bool passGate() {
    if (!gated_ || written_ < limit_) return true;
    gated_ = false;
    if (!command_.gate()) return false;
    limit_ = command_.input.size();
    if (written_ == limit_) closeFd(fd_);
    return true;
  }

  // stdin is writable: one send of what the gate allows.
  void write() {
    ssize_t w = ::send(fd_, command_.input.data() + written_, limit_ - written_, MSG_NOSIGNAL);
    if (w > 0) written_ += static_cast<size_t>(w);
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
      finish();  // the program quit early; the gate's work is still waited for
    } else if (written_ == command_.input.size()) {
      closeFd(fd_);
    }
  }

  // Closes stdin; a gate not asked yet is asked now (its answer no longer matters).
  void finish() {
    closeFd(fd_);
    if (gated_) {
      gated_ = false;
      (void)command_.gate();
    }
  }

 private:
  const Command& command_;
  int fd_;
  bool gated_;
  size_t limit_;  // input[0, limit_) may be written now
  size_t written_ = 0;
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
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + command.timeout;
  StdinFeeder feeder(command, std::exchange(child.in, -1));
  std::string killedFor;
  while (feeder.fd() >= 0 || child.out >= 0 || child.err >= 0) {
    if (!feeder.passGate()) {
      ::kill(child.pid, SIGKILL);
      killedFor = "stopped before its input was complete";
      feeder.finish();
    }
    int waitMs = -1;
    if (command.timeout.count() > 0) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        ::kill(child.pid, SIGKILL);
        // Not waiting for end of file: a grandchild may hold the pipes open.
        killedFor = "timed out after " + std::to_string(command.timeout.count()) + " ms";
        break;
      }
      waitMs = static_cast<int>(std::min<decltype(left)>(left, INT_MAX));
    }
    pollfd fds[3];
    int n = 0;
    for (int fd : {feeder.fd(), child.out, child.err}) {
      if (fd >= 0) fds[n++] = {fd, fd == feeder.fd() ? short{POLLOUT} : short{POLLIN}, 0};
    }
    if (::poll(fds, n, waitMs) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == feeder.fd()) {
        feeder.write();
      } else if (fds[i].fd == child.out) {
        drain(child.out, output.out);
      } else if (fds[i].fd == child.err) {
        drain(child.err, output.err);
      }
    }
  }
  feeder.finish();
  closeFd(child.out);
  closeFd(child.err);
  return killedFor;
}

// Reaps the program: its exit code (128 + signal if killed) and, when it printed no error of
// its own, why it failed.
void waitExit(const Child& child, const std::string& program, const std::string& netns,
              const std::string& killedFor, CommandOutput& output) {
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    output.exitCode = WEXITSTATUS(status);
    if (output.exitCode == 127 && output.err.empty()) output.err = "cannot exec " + program;
    if (output.exitCode == 126 && output.err.empty() && !netns.empty()) {
      output.err = "cannot enter netns " + netns;
    }
  } else if (WIFSIGNALED(status)) {
    output.exitCode = 128 + WTERMSIG(status);
    if (!killedFor.empty() && output.err.empty()) output.err = killedFor;
  }
}

}  // namespace

std::string commandText(const Command& command) {
  std::string text;
  for (const auto& arg : command.argv) {
    if (!text.empty()) text += ' ';
    text += arg;
  }
  return text;
}

Result<CommandOutput> ProcessRunner::run(const Command& command) {
  if (command.argv.empty()) return makeError(ErrorCode::kInvalid, "empty command");
  auto child = spawn(command.argv, netns_);
  if (!child) return child.error();
  CommandOutput output;
  if (child->pid < 0) {
    // As with fork + exec: a program that cannot be run is exit code 127, not an Error.
    output.exitCode = 127;
    output.err = "cannot exec " + command.argv[0] + ": " + std::strerror(child->execErrno);
    return output;
  }
  std::string killedFor = exchange(*child, command, output);
  waitExit(*child, command.argv[0], netns_, killedFor, output);
  return output;
}

}  // namespace brindle::os
