// RendererConfig validation; see config.h.
#include "rules/config.h"

namespace brindle::rules {

std::string validateConfig(const RendererConfig& c) {
  for (uint32_t bit : {c.markAccept, c.markPass, c.markEndpoint}) {
    if (bit == 0) return "mark bits must not be 0";
    if ((bit & c.markMask) != bit) return "mark bit outside markMask";
  }
  if ((c.markAccept & c.markPass) || (c.markAccept & c.markEndpoint) ||
      (c.markPass & c.markEndpoint)) {
    return "mark bits overlap";
  }
  if (c.workloadInterfacePrefixes.empty()) return "no workload interface prefix";
  return "";
}

}  // namespace brindle::rules
