// Issue #15's planner benchmark: a 10,000-node plan (AS per rack, 250 racks x 40 nodes, through
// a core) computed and printed as brindlectl plan prints it (table, JSON, drawing); the time of
// each must stay under a second.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/app.h"
#include "plan/plan.h"

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main() {
  using brindle::cli::Io;
  const std::vector<std::string> shape = {"plan",    "--topology", "as-per-rack",      "--core",
                                          "--racks", "250",        "--nodes-per-rack", "40",
                                          "--pool",  "10.0.0.0/8", "--route-capacity", "5000"};
  bool slow = false;
  for (const std::string output : {"table", "json", "svg"}) {
    std::vector<std::string> args = shape;
    if (output == "json") args.insert(args.end(), {"-o", "json"});
    if (output == "svg") args.insert(args.end(), {"--svg", "/dev/null"});
    std::istringstream in;
    std::ostringstream out, err;
    Io io{in, out, err, {}};
    const auto start = std::chrono::steady_clock::now();
    const int rc = brindle::cli::runBrindlectl(args, io);
    const double s = secondsSince(start);
    if (rc != 0) {
      std::cerr << "plan failed: " << err.str();
      return 1;
    }
    std::printf("10,000-node plan (as-per-rack, 250 x 40, core), %-5s: %.3f s, %zu bytes\n",
                output.c_str(), s, out.str().size());
    if (output == "table") std::cout << out.str() << err.str();
    slow = slow || s >= 1.0;
  }
  brindle::plan::Topology mesh;
  mesh.racks = 250;
  mesh.nodesPerRack = 40;
  mesh.pool = "10.0.0.0/8";
  const auto start = std::chrono::steady_clock::now();
  auto p = brindle::plan::plan(mesh);
  std::printf("10,000-node full mesh, plan() alone: %.3f s, %lld sessions\n", secondsSince(start),
              static_cast<long long>(p->totalSessions));
  if (slow) std::printf("FAIL: a plan took a second or more\n");
  return slow ? 1 : 0;
}
