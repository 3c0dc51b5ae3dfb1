// The iptables and ipset writers run their tools through os::CommandRunner (os/process.h);
// these are its names inside the dataplane.
#pragma once

#include "os/process.h"

namespace brindle::dataplane {

using os::Command;
using os::CommandOutput;
using os::CommandRunner;
using os::commandText;
using os::ProcessRunner;

}  // namespace brindle::dataplane
