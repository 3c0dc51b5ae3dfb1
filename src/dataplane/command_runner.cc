// fork/exec with three pipes and a poll loop (stdin is fed while stdout/stderr drain, so a large
// restore input never deadlocks against a chatty program).
#include "dataplane/command_runner.h"

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
#include <cstring>

#include "dataplane/netns.h"

namespace brindle::dataplane {
namespace {

Error sysError(const std::string& what) {
  return makeError(ErrorCode::kInternal, what + ": " + std::strerror(errno));
}

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
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
  // Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& arg : command.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int nsFd = -1;
  if (!netns_.empty()) {
    nsFd = ::open(netnsPath(netns_).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsFd < 0) return sysError("open netns " + netns_);
  }
  int in[2], out[2], err[2];
  // stdin is a socket so that send(MSG_NOSIGNAL) reports a reader that quit instead of SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) return sysError("socketpair");
  if (::pipe2(out, O_CLOEXEC) != 0) return sysError("pipe");
  if (::pipe2(err, O_CLOEXEC) != 0) return sysError("pipe");

  pid_t pid = -1;
  if (nsFd < 0) {
    // posix_spawn shares the agent's memory until exec (no copy of its page tables, no
    // copy-on-write faults afterwards): a few ms less per restore for a large agent.
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    ::posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      // As with fork + exec: a program that cannot be run is exit code 127, not an Error.
      for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) ::close(fd);
      CommandOutput missing;
      missing.exitCode = 127;
      missing.err = "cannot exec " + command.argv[0] + ": " + std::strerror(rc);
      return missing;
    }
  } else {
    pid = ::fork();
    if (pid < 0) return sysError("fork");
    if (pid == 0) {
      if (::setns(nsFd, CLONE_NEWNET) != 0) _exit(126);
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execvp(argv[0], argv.data());
      _exit(127);
    }
  }
  if (nsFd >= 0) ::close(nsFd);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  int inFd = in[1], outFd = out[0], errFd = err[0];
  ::fcntl(inFd, F_SETFL, O_NONBLOCK);
  // Until the gate has opened, only input[0, limit) may be written.
  bool gated = static_cast<bool>(command.gate);
  size_t limit = gated ? std::min(command.gateAt, command.input.size()) : command.input.size();
  bool killed = false;
  if (command.input.empty() && !gated) closeFd(inFd);

  CommandOutput result;
  size_t written = 0;
  char buf[65536];
  while (inFd >= 0 || outFd >= 0 || errFd >= 0) {
    if (gated && written == limit) {
      gated = false;
      if (command.gate()) {
        limit = command.input.size();
        if (written == limit) closeFd(inFd);
      } else {
        ::kill(pid, SIGKILL);
        killed = true;
        closeFd(inFd);
      }
    }
    pollfd fds[3];
    int n = 0;
    if (inFd >= 0) fds[n++] = {inFd, POLLOUT, 0};
    if (outFd >= 0) fds[n++] = {outFd, POLLIN, 0};
    if (errFd >= 0) fds[n++] = {errFd, POLLIN, 0};
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == inFd) {
        ssize_t w = ::send(inFd, command.input.data() + written, limit - written, MSG_NOSIGNAL);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
          closeFd(inFd);
          if (gated) {  // the program quit early: the gate's work is still waited for
            gated = false;
            (void)command.gate();
          }
        } else if (written == command.input.size()) {
          closeFd(inFd);
        }
      } else {
        int& fd = fds[i].fd == outFd ? outFd : errFd;
        std::string& sink = fds[i].fd == outFd ? result.out : result.err;
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r > 0) {
          sink.append(buf, static_cast<size_t>(r));
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          closeFd(fd);
        }
      }
    }
  }
  if (gated) (void)command.gate();  // called exactly once, whatever happened to the program
  closeFd(inFd);
  closeFd(outFd);
  closeFd(errFd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exitCode = WEXITSTATUS(status);
    if (result.exitCode == 127 && result.err.empty()) result.err = "cannot exec " + command.argv[0];
    if (result.exitCode == 126 && result.err.empty()) result.err = "cannot enter netns " + netns_;
  } else if (WIFSIGNALED(status)) {
    result.exitCode = 128 + WTERMSIG(status);
    if (killed && result.err.empty()) result.err = "stopped before its input was complete";
  }
  return result;
}

}  // namespace brindle::dataplane
