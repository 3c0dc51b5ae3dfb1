// Probes: one real connection from a lab member to another, allowed when it gets through.
// TCP: a listener in the target's namespace and a connect bounded by kProbeWait. UDP: a
// responder that echoes; no echo in time is denied. ICMP: one ping.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "lab/lab.h"

namespace brindle::lab {

inline constexpr std::chrono::milliseconds kProbeWait{1500};

struct Probe {
  std::string from, to;
  std::string proto;  // "tcp", "udp" or "icmp"
  int port = 0;       // 0 for icmp
  bool allowed = false;

  // "tcp/3306" or "icmp".
  std::string target() const;
  // "FROM -> TO tcp/3306 allowed".
  std::string line() const;
};

// "tcp/3306", "udp/53" or "icmp".
Result<Probe> parseProbe(const std::string& from, const std::string& to, const std::string& what);

// Runs all probes at once (denied ones cost one wait in all, not one each): a server per
// distinct target port before, none left after. Fills in `allowed`.
Status runProbes(const Lab& lab, std::vector<Probe>& probes);

}  // namespace brindle::lab
