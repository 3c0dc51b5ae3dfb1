// The FakeIpset simulator; members are kept in the canonical form `ipset save` prints.
#include "dataplane/testing/fake_ipset.h"

#include <sstream>
#include <vector>

#include "dataplane/ipsets_impl.h"

namespace brindle::dataplane::testing {
namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

}  // namespace

std::set<std::string> FakeIpset::names() const {
  std::set<std::string> out;
  for (const auto& [name, s] : sets_) out.insert(name);
  return out;
}

std::string FakeIpset::save() const {
  std::string out;
  for (const auto& [name, s] : sets_) {
    out += "create " + name + " " + s.type + " family " + s.family +
           " hashsize 1024 maxelem 65536 bucketsize 12 initval 0x12345678\n";
    for (const auto& m : s.members) out += "add " + name + " " + m + "\n";
  }
  return out;
}

std::string FakeIpset::apply(const std::vector<std::string>& t, bool exist) {
  if (t.empty()) return "";
  const std::string& op = t[0];
  auto need = [&](size_t n) { return t.size() >= n; };
  if (op == "create") {
    if (!need(3)) return "Missing mandatory argument";
    std::string family = "inet";
    for (size_t i = 3; i + 1 < t.size(); ++i) {
      if (t[i] == "family") family = t[i + 1];
    }
    if (t[1].size() > 31)
      return "Syntax error: setname '" + t[1] + "' is longer than 31 characters";
    auto it = sets_.find(t[1]);
    if (it != sets_.end()) {
      if (exist && it->second.type == t[2] && it->second.family == family) return "";
      return "Set cannot be created: set with the same name already exists";
    }
    sets_[t[1]] = Set{t[2], family, {}};
    return "";
  }
  auto it = sets_.find(need(2) ? t[1] : "");
  if (op == "destroy" || op == "flush" || op == "add" || op == "del" || op == "swap") {
    if (it == sets_.end()) return "The set with the given name does not exist";
  }
  if (op == "destroy") {
    if (inUse_ && inUse_(t[1]))
      return "Set cannot be destroyed: it is in use by a kernel component";
    sets_.erase(it);
    return "";
  }
  if (op == "flush") {
    it->second.members.clear();
    return "";
  }
  if (op == "swap") {
    auto other = sets_.find(need(3) ? t[2] : "");
    if (other == sets_.end()) return "The set with the given name does not exist";
    if (other->second.type != it->second.type || other->second.family != it->second.family) {
      return "The sets cannot be swapped: their type does not match";
    }
    std::swap(it->second, other->second);
    return "";
  }
  if (op == "add" || op == "del") {
    if (!need(3)) return "Missing mandatory argument";
    IpVersion v = it->second.family == "inet6" ? IpVersion::kV6 : IpVersion::kV4;
    std::string member = canonicalMember(t[2], it->second.type, v);
    if (member.empty()) return "Syntax error: cannot parse " + t[2];
    if (op == "add") {
      if (!it->second.members.insert(member).second && !exist) {
        return "Element cannot be added to the set: it's already added";
      }
    } else if (it->second.members.erase(member) == 0 && !exist) {
      return "Element cannot be deleted from the set: it's not added";
    }
    return "";
  }
  return "Unknown command " + op;
}

Result<os::CommandOutput> FakeIpset::run(const os::Command& command) {
  if (command.gate && !command.gate()) {
    return os::CommandOutput{137, "", "stopped before its input was complete"};
  }
  std::lock_guard lock(simulatorMutex());
  const auto& argv = command.argv;
  if (argv.empty() || argv[0] != "ipset") return os::CommandOutput{127, "", "fake: not ipset\n"};
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  bool exist = false;
  std::vector<std::string> rest;
  for (const auto& a : args) {
    if (a == "-exist" || a == "-!") {
      exist = true;
    } else {
      rest.push_back(a);
    }
  }
  if (rest.empty()) return os::CommandOutput{1, "", "ipset: no command\n"};
  if (rest[0] == "save" || (rest[0] == "list" && rest.size() >= 3 && rest[1] == "-o")) {
    recordSave();
    return os::CommandOutput{0, save(), ""};
  }
  if (rest[0] == "restore") {
    recordRestore(command.input);
    if (failRestores_ > 0) {
      --failRestores_;
      return os::CommandOutput{1, "", "ipset v7.17: injected failure\n"};
    }
    std::istringstream in(command.input);
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
      ++lineNo;
      auto t = words(line);
      if (t.empty() || t[0][0] == '#' || t[0] == "COMMIT") continue;
      std::string err = apply(t, exist);
      if (!err.empty()) {
        return os::CommandOutput{
            1, "", "ipset v7.17: Error in line " + std::to_string(lineNo) + ": " + err + "\n"};
      }
    }
    return os::CommandOutput{};
  }
  std::string err = apply(rest, exist);
  if (!err.empty()) return os::CommandOutput{1, "", "ipset v7.17: " + err + "\n"};
  return os::CommandOutput{};
}

}  // namespace brindle::dataplane::testing
