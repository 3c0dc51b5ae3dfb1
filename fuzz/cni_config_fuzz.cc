// libFuzzer target for brindle-cni's network config reader (what a runtime writes on stdin):
// arbitrary bytes must never crash it, and a refusal always carries a CNI error code and message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cni/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace brindle::cni;
  const std::string input(reinterpret_cast<const char*>(data), size);
  CniError error;
  auto conf = parseNetConf(input, &error);
  if (!conf && error.msg.empty()) std::abort();
  return 0;
}
