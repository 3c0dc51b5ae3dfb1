// libFuzzer target for the stored-value reader (src/model/stored_json.cc): on any bytes it must
// give exactly what nlohmann's Json::parse gives, the same value (dump and type) or the same
// error (aborts otherwise).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "model/resource.h"

namespace {

using brindle::model::Json;

template <typename Parse>
std::string outcome(Parse parse, std::string_view text) {
  try {
    Json j = parse(text);
    return j.dump() + " type " + std::to_string(static_cast<int>(j.type()));
  } catch (const std::exception& e) {
    return std::string("error ") + e.what();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string fast = outcome(brindle::model::parseStoredJson, input);
  const std::string library = outcome([](std::string_view t) { return Json::parse(t); }, input);
  if (fast != library) {
    std::fprintf(stderr,
                 "stored_json_fuzz: readers differ\n  input: %.*s\n  fast: %s\n  nlohmann: %s\n",
                 static_cast<int>(input.size()), input.data(), fast.c_str(), library.c_str());
    std::abort();
  }
  return 0;
}
