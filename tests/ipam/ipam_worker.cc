// Helper process of concurrency_test.cc: one allocator among several hammering one pool.
// Usage: ipam_worker <backend location> <node> <count> <start fd> <output file>
//   Waits for EOF on <start fd> (so all workers start together), then makes <count> allocations
//   of one IPv4 address each for <node>, handle "<node>.<pid>.<i>", and writes "ip handle" lines
//   to <output file>. Exits 0 when all succeeded; prints the error otherwise.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "backend.h"
#include "ipam/ipam.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: ipam_worker <location> <node> <count> <start fd> <output>\n");
    return 2;
  }
  const std::string node = argv[2];
  const int count = std::atoi(argv[3]);
  const int startFd = std::atoi(argv[4]);
  auto client = brindle::ipam::test::openBackend(argv[1]);
  if (!client) {
    std::fprintf(stderr, "ipam_worker: open: %s\n", client.message().c_str());
    return 1;
  }
  auto ipam = brindle::ipam::makeIpam(**client);
  char c;
  while (::read(startFd, &c, 1) > 0) {
  }
  std::ofstream out(argv[5]);
  for (int i = 0; i < count; ++i) {
    brindle::ipam::AssignArgs args;
    args.node = node;
    args.handle = node + "." + std::to_string(::getpid()) + "." + std::to_string(i);
    args.attributes = {{"node", node}, {"pod", "pod-" + std::to_string(i)}};
    auto r = ipam->autoAssign(args);
    if (!r || r->ipv4.size() != 1) {
      std::fprintf(stderr, "ipam_worker %s: allocation %d: %s\n", node.c_str(), i,
                   r ? "wrong count" : r.message().c_str());
      return 1;
    }
    out << r->ipv4[0].address().toString() << " " << args.handle << "\n";
  }
  out.close();
  return out ? 0 : 1;
}
