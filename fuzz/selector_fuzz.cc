// libFuzzer target for the selector parser: arbitrary bytes must never crash it, and every
// selector it accepts must survive the canonical round trip unchanged (aborts otherwise).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "selector/selector.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view input, std::string_view canonical) {
  std::fprintf(stderr, "selector_fuzz: %s\n  input:     %.*s\n  canonical: %.*s\n", what,
               static_cast<int>(input.size()), input.data(), static_cast<int>(canonical.size()),
               canonical.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using brindle::selector::Selector;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  brindle::Result<Selector> sel = Selector::parse(input);
  if (!sel) return 0;
  const std::string& canonical = sel->canonical();
  brindle::Result<Selector> again = Selector::parse(canonical);
  if (!again) fail("canonical form does not parse", input, canonical);
  if (again->canonical() != canonical) fail("canonical form is not stable", input, canonical);
  if (again->labelKeys() != sel->labelKeys()) fail("label keys differ", input, canonical);

  // Both must also agree on what they match. Label maps built from the referenced keys reach
  // the interesting branches (absent, empty, and a value seen in the input).
  brindle::Labels empty;
  brindle::Labels blank;
  brindle::Labels valued;
  for (const std::string& key : sel->labelKeys()) {
    blank[key] = "";
    valued[key] = std::string(input.substr(0, 8));
  }
  for (const brindle::Labels* labels : {&empty, &blank, &valued}) {
    if (sel->matches(*labels) != again->matches(*labels)) {
      fail("canonical form evaluates differently", input, canonical);
    }
  }
  return 0;
}
