// Lab: state dir, write-ahead namespaces and running programs inside the lab's namespaces.
#include "lab/lab.h"

#include <unistd.h>

#include <filesystem>
#include <thread>

extern char** environ;

namespace brindle::lab {

Status validateName(const std::string& what, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 20 && name.front() != '-' && name.back() != '-';
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (ok) return Status::ok();
  return makeError(ErrorCode::kInvalid, what + " name \"" + name +
                                            "\": use 1-20 of a-z, 0-9 and '-' (it becomes part "
                                            "of namespace names)");
}

Result<Lab> Lab::open(const std::string& name, bool needTools) {
  if (Status s = validateName("lab", name); !s) return s.error();
  auto tools = findTools();
  if (!tools && needTools) return tools.error();
  Lab lab(name, tools ? *tools : Tools{});
  auto state = loadState(lab.dir() + "/state.json");
  if (state) {
    lab.state_ = std::move(*state);
  } else if (state.code() != ErrorCode::kNotFound) {
    return state.error();
  }
  return lab;
}

std::string Lab::downCommand() const {
  return "brindle-lab" + (name_ == "lab" ? "" : " --lab " + name_) + " down";
}

Status Lab::save() const {
  std::error_code ec;
  std::filesystem::create_directories(dir(), ec);
  if (ec) return makeError(ErrorCode::kInternal, "cannot create " + dir() + ": " + ec.message());
  return saveState(dir() + "/state.json", state_);
}

Status Lab::addNetns(const std::string& member) {
  const std::string ns = netns(member);
  state_.namespaces.push_back(ns);
  if (Status s = save(); !s) return s;
  if (auto r = check("", {"ip", "netns", "add", ns}); !r) return r.error();
  if (auto r = check(member, {"ip", "link", "set", "lo", "up"}); !r) return r.error();
  return Status::ok();
}

std::vector<std::string> Lab::datastoreEnv() const {
  if (!state_.etcdEndpoint.empty()) {
    return {"DATASTORE_TYPE=etcdv3", "ETCD_ENDPOINTS=" + state_.etcdEndpoint};
  }
  return {"DATASTORE_TYPE=local", "BRINDLE_STORE_PATH=" + storePath()};
}

Result<os::CommandOutput> Lab::run(const std::string& member, std::vector<std::string> argv,
                                   const std::vector<std::string>& env, const std::string& input,
                                   std::chrono::milliseconds timeout) const {
  os::Command command(std::move(argv), input);
  command.timeout = timeout;
  if (!env.empty()) {
    // Ours without the variables `env` sets, then `env`.
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string var = *e;
      const std::string key = var.substr(0, var.find('=') + 1);
      bool overridden = false;
      for (const auto& v : env) overridden = overridden || v.rfind(key, 0) == 0;
      if (!overridden) command.env.push_back(var);
    }
    command.env.insert(command.env.end(), env.begin(), env.end());
  }
  return os::ProcessRunner(member.empty() ? "" : netns(member)).run(command);
}

Result<std::string> Lab::check(const std::string& member, std::vector<std::string> argv,
                               const std::vector<std::string>& env,
                               const std::string& input) const {
  const std::string text = os::commandText(os::Command(argv));
  auto out = run(member, std::move(argv), env, input);
  if (!out) return out.error();
  if (out->exitCode != 0) {
    return makeError(ErrorCode::kInternal,
                     text + (member.empty() ? "" : " (in " + netns(member) + ")") +
                         " failed (exit " + std::to_string(out->exitCode) + "): " + out->err +
                         out->out);
  }
  return out->out;
}

Status Lab::checkAll(const std::string& member,
                     const std::vector<std::vector<std::string>>& argvs) const {
  for (const auto& argv : argvs) {
    if (auto r = check(member, argv); !r) return r.error();
  }
  return Status::ok();
}

Result<std::string> Lab::ctl(std::vector<std::string> args, const std::string& input) const {
  args.insert(args.begin(), tools_.brindlectl);
  return check(state_.ctlMember, std::move(args), datastoreEnv(), input);
}

Status Lab::daemon(const std::string& member, const std::vector<std::string>& argv,
                   const std::vector<std::string>& env, const std::string& log) const {
  // setsid -f returns once the daemon is forked; its output goes to the log, so no pipe of ours
  // stays open in it.
  std::vector<std::string> sh = {"setsid", "-f", "sh", "-c", "exec \"$@\" >\"$0\" 2>&1 </dev/null",
                                 log};
  sh.insert(sh.end(), argv.begin(), argv.end());
  auto r = check(member, sh, env);
  return r ? Status::ok() : Status(r.error());
}

bool waitFor(double seconds, const std::function<bool()>& check) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  for (;;) {
    if (check()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace brindle::lab
