// The value of an unlabelled metric in a Prometheus text body (the agent's /metrics), or -1 when
// the body has no such line: what the agent tests read after each scrape.
#pragma once

#include <regex>
#include <string>

namespace brindle::testutil {

inline double metricValue(const std::string& body, const std::string& name) {
  std::smatch m;
  const std::string text = "\n" + body;
  return std::regex_search(text, m, std::regex("\n" + name + " ([0-9.e+]+)\n"))
             ? std::stod(m[1].str())
             : -1;
}

}  // namespace brindle::testutil
