// libFuzzer target for the YAML/JSON reader brindlectl feeds every -f file through: arbitrary
// bytes must never crash it, and whatever it accepts must stay within its limits and read back
// the same after writing it out as YAML (aborts otherwise).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "model/yaml_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace brindle::model;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ParseLimits limits;
  limits.maxValues = 100000;  // keep one run quick; the limits' logic is the same at any size
  auto docs = parseDocuments(input, "fuzz", limits);
  if (!docs) return 0;
  for (const Json& doc : *docs) {
    if (doc.is_null()) continue;  // written as "null", a document the reader skips as empty
    const std::string yaml = writeYaml(doc);
    auto again = parseDocuments(yaml, "fuzz-again", limits);
    if (!again || again->size() != 1 || (*again)[0] != doc) {
      std::fprintf(stderr, "yaml_fuzz: written YAML does not read back\n--- written:\n%s\n",
                   yaml.c_str());
      std::abort();
    }
  }
  return 0;
}
