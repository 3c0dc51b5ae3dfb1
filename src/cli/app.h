// brindlectl's entry point as a function, so tests can run commands in-process with their own
// streams and environment. Exit codes as calicoctl: 0 success, 1 failure.
#pragma once

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace brindle::cli {

struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  std::map<std::string, std::string> env;  // the environment the command sees
};

// `args` excludes the program name.
int runBrindlectl(const std::vector<std::string>& args, Io& io);

}  // namespace brindle::cli
