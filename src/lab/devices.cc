// Measuring a device through its BIRD's control socket and its kernel.
#include "lab/devices.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace brindle::lab {

std::string routerDir(const Lab& lab, const std::string& router) {
  return lab.dir() + "/routers/" + router;
}

Status startBird(const Lab& lab, const std::string& member, const std::string& dir,
                 const std::string& conf) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/bird.conf") << conf;
  return lab.daemon(
      member,
      {"bird", "-f", "-c", dir + "/bird.conf", "-s", dir + "/bird.ctl", "-P", dir + "/bird.pid"},
      {}, dir + "/bird.log");
}

Result<int> establishedOf(const Lab& lab, const Device& device) {
  const std::string sock = device.role == Role::kNode
                               ? lab.runDir() + "/" + device.name + "/bird.ctl"
                               : routerDir(lab, device.name) + "/bird.ctl";
  auto out = lab.check("", {"birdc", "-s", sock, "show", "protocols"});
  if (!out) return out.error();
  int n = 0;
  std::istringstream lines(*out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" BGP ") != std::string::npos && line.find("Established") != std::string::npos) {
      ++n;
    }
  }
  return n;
}

Result<int> bgpRoutesOf(const Lab& lab, const Device& device) {
  auto out = lab.check(device.name, {"ip", "-j", "-4", "route", "show", "proto", "bird"});
  if (!out) return out.error();
  try {
    int n = 0;
    for (const auto& r : nlohmann::json::parse(out->empty() ? "[]" : *out)) {
      if (r.value("type", "unicast") == "unicast") ++n;
    }
    return n;
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInternal,
                     "ip -j route in " + lab.netns(device.name) + ": " + e.what());
  }
}

}  // namespace brindle::lab
