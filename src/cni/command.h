// The process entry of brindle-cni / brindle-ipam: reads the environment and stdin, wires the
// real collaborators (netlink, datastore, IPAM) and prints a result or an error.
#pragma once

#include <iosfwd>
#include <map>
#include <string>

namespace brindle::cni {

// Returns the exit status: 0, or 1 with the CNI error JSON on `out`. `argv0` selects the role:
// a name ending in "brindle-ipam" serves as the IPAM plugin, anything else as the network plugin.
int runCommand(const std::string& argv0, const std::map<std::string, std::string>& env,
               std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace brindle::cni
