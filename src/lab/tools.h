// The programs and files a lab uses (brindlectl's node run finds brindle-agent beside itself),
// found beside brindle-lab: in the build tree (apps/<name>/<name>) or installed (<prefix>/bin,
// /opt/cni/bin, <prefix>/share/brindle).
#pragma once

#include <string>

#include "common/result.h"

namespace brindle::lab {

struct Tools {
  std::string brindlectl;
  std::string cni;       // brindle-cni
  std::string examples;  // the examples/ folder (the seed's files); "" when not found
};

Result<Tools> findTools();

}  // namespace brindle::lab
