// The commands that act on one member of a running lab: workload add/del, exec and probe.
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "lab/commands.h"
#include "lab/probe.h"
#include "os/netns.h"

namespace brindle::lab {
namespace {

int fail(const std::string& message) {
  std::cerr << "brindle-lab: " << message << "\n";
  return 1;
}

bool isMember(const Lab& lab, const std::string& member) {
  for (const auto& ns : lab.state().namespaces) {
    if (ns == lab.netns(member)) return true;
  }
  return false;
}

}  // namespace

int runWorkloadAdd(Lab& lab, const WorkloadSpec& spec) {
  if (Status s = addWorkload(lab, spec); !s) return fail(s.message());
  const auto* w = lab.state().workload(spec.name);
  std::cout << "workload " << w->name << " on " << w->node << ": " << w->address << " via "
            << w->iface << "\n";
  return 0;
}

int runWorkloadDel(Lab& lab, const std::string& name) {
  if (Status s = deleteWorkload(lab, name); !s) return fail(s.message());
  std::cout << "workload " << name << " removed\n";
  return 0;
}

int runExec(const Lab& lab, const std::string& member, const std::vector<std::string>& argv) {
  if (!isMember(lab, member)) return fail("lab " + lab.name() + " has no member " + member);
  if (argv.empty()) return fail("exec: no command given");
  auto fd = os::openNetns(lab.netns(member));
  if (!fd) return fail(fd.message());
  if (::setns(*fd, CLONE_NEWNET) != 0) return fail(std::string("setns: ") + std::strerror(errno));
  ::close(*fd);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  std::cerr << "brindle-lab: cannot run " << argv[0] << ": " << std::strerror(errno) << "\n";
  return 127;
}

int runProbe(const Lab& lab, const std::string& from, const std::string& to,
             const std::string& what) {
  auto probe = parseProbe(from, to, what);
  if (!probe) return fail(probe.message());
  std::vector<Probe> probes = {*probe};
  if (Status s = runProbes(lab, probes); !s) return fail(s.message());
  std::cout << probes[0].line() << "\n";
  return 0;
}

}  // namespace brindle::lab
