// The agent daemon's process handling (see agent_process.h).
#include "node/agent_process.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/strings.h"

namespace brindle::node {
namespace {

std::vector<char*> cStrings(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

bool processAlive(pid_t pid) {
  if (pid <= 0) return false;
  // Our own child that exited is reaped here, so it stops counting at once.
  if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

pid_t livePid(const std::string& pidFile, const std::vector<std::string>& args) {
  long pid = 0;
  if (!(std::ifstream(pidFile) >> pid) || pid <= 0 || !processAlive(static_cast<pid_t>(pid))) {
    return 0;
  }
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> argv;
  for (std::string arg; std::getline(in, arg, '\0');) argv.push_back(arg);
  return args.empty() ||
                 std::search(argv.begin(), argv.end(), args.begin(), args.end()) != argv.end()
             ? static_cast<pid_t>(pid)
             : 0;
}

Status writePidFile(const std::string& pidFile, pid_t pid) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(pidFile).parent_path(), ec);
  const std::string tmp = pidFile + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << pid << "\n";
    if (!out) return makeError(ErrorCode::kInternal, "cannot write " + tmp);
  }
  std::filesystem::rename(tmp, pidFile, ec);
  if (ec) return makeError(ErrorCode::kInternal, "cannot write " + pidFile + ": " + ec.message());
  return Status::ok();
}

Result<pid_t> startDetached(const Launch& launch) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(launch.logFile).parent_path(), ec);
  const int log = ::open(launch.logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    return makeError(ErrorCode::kInternal,
                     "cannot open " + launch.logFile + ": " + std::strerror(errno));
  }
  // Built before fork: a child of a threaded process must not allocate.
  Launch copy = launch;
  auto argv = cStrings(copy.argv);
  auto envp = cStrings(copy.env);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ::close(log);
    return makeError(ErrorCode::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  const pid_t middle = ::fork();
  if (middle == 0) {
    ::close(fds[0]);
    const pid_t daemon = ::fork();
    if (daemon == 0) {
      ::setsid();  // its own session and process group (pid = pgid = sid)
      const int devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // dup2 clears it on 0
      ::dup2(devNull, 0);
      ::dup2(log, 1);
      ::dup2(log, 2);
      // A signal mask or ignored signals of ours must not reach the daemon.
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
      ::execvpe(argv[0], argv.data(), envp.data());
      const int err = errno;
      (void)!::write(fds[1], &err, sizeof err);
      ::_exit(127);
    }
    (void)!::write(fds[1], &daemon, sizeof daemon);
    ::_exit(daemon > 0 ? 0 : 1);
  }
  ::close(fds[1]);
  ::close(log);
  if (middle < 0) {
    ::close(fds[0]);
    return makeError(ErrorCode::kInternal, std::string("fork: ") + std::strerror(errno));
  }
  ::waitpid(middle, nullptr, 0);
  pid_t daemon = -1;
  int execErrno = 0;
  const bool gotPid = ::read(fds[0], &daemon, sizeof daemon) == sizeof daemon && daemon > 0;
  const bool execFailed =
      gotPid && ::read(fds[0], &execErrno, sizeof execErrno) == sizeof execErrno;
  ::close(fds[0]);
  if (!gotPid) return makeError(ErrorCode::kInternal, "fork of " + launch.argv[0] + " failed");
  if (execFailed) {
    return makeError(ErrorCode::kNotFound,
                     "cannot run " + launch.argv[0] + ": " + std::strerror(execErrno));
  }
  return daemon;
}

Status execForeground(const Launch& launch) {
  Launch copy = launch;
  auto argv = cStrings(copy.argv);
  auto envp = cStrings(copy.env);
  ::execvpe(argv[0], argv.data(), envp.data());
  return makeError(ErrorCode::kNotFound,
                   "cannot run " + launch.argv[0] + ": " + std::strerror(errno));
}

Readiness probeReadiness(const std::string& host, int port, std::chrono::milliseconds timeout) {
  httplib::Client client(host, port);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  client.set_connection_timeout(0, us);
  client.set_read_timeout(0, us);
  auto res = client.Get("/readiness");
  Readiness r;
  if (!res) return r;
  r.reachable = true;
  r.ready = res->status == 200;
  std::istringstream body(res->body);
  std::string line;
  std::getline(body, line);  // "ready" / "not ready"
  while (std::getline(body, line)) {
    if (!trim(line).empty()) r.reason += (r.reason.empty() ? "" : "; ") + trim(line);
  }
  if (!r.ready && r.reason.empty()) r.reason = "HTTP " + std::to_string(res->status);
  return r;
}

bool stopProcess(pid_t pid, std::chrono::milliseconds grace) {
  if (!processAlive(pid)) return true;
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (processAlive(pid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!processAlive(pid)) return true;
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 250 && processAlive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !processAlive(pid);
}

std::string fileTail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += l + "\n";
  return out;
}

}  // namespace brindle::node
