// bench_ipam: IPAM figures on a fresh embedded store: allocations per second from an affine block,
// the first allocation of a node (which claims its block), and releases per second by handle
// and by IP. Runs in well under 20 s.
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "datastore/local/local_store.h"
#include "ipam/ipam.h"
#include "model/validate.h"
#include "resources/resource_store.h"

namespace {

using brindle::ipam::AssignArgs;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void die(const std::string& what) {
  fmt::print(stderr, "bench_ipam: {}\n", what);
  std::exit(1);
}

template <typename R>
void check(const R& r, const char* what) {
  if (!r.isOk()) die(fmt::format("{}: {}", what, r.message()));
}

void createPool(brindle::datastore::Client& client, const std::string& name,
                const std::string& cidr, int blockSize) {
  brindle::model::Resource r;
  r.kind = brindle::model::Kind::kIPPool;
  r.metadata["name"] = name;
  r.spec["cidr"] = cidr;
  r.spec["blockSize"] = blockSize;
  brindle::model::applyDefaults(r);
  check(brindle::model::validateResource(r), "validate pool");
  brindle::resources::ResourceStore store(client);
  check(store.write(brindle::resources::WriteMode::kCreate, {r}), "create pool");
}

AssignArgs args(const std::string& node, const std::string& handle) {
  AssignArgs a;
  a.node = node;
  a.handle = handle;
  a.attributes = {{"node", node}, {"namespace", "default"}, {"pod", handle}};
  return a;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  char pattern[] = "/tmp/brindle-bench-ipam-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) die("mkdtemp failed");
  const std::string dir = pattern;
  auto opened = brindle::datastore::openLocalStore(dir + "/store.db");
  check(opened, "open");
  auto& client = **opened;
  auto ipam = brindle::ipam::makeIpam(client);
  fmt::print("bench_ipam: embedded store {}/store.db, one process\n", dir);

  // 1. Allocations from an affine block: default /26 blocks; an allocation that had to claim a
  // new block (every 64th) is timed apart, so the first figure is the affine path alone.
  createPool(client, "affine", "10.0.0.0/16", 26);
  constexpr int kAllocs = 2000;
  double affineSeconds = 0, claimSeconds = 0;
  int affineCount = 0, claimCount = 0;
  std::string lastBlock;
  auto t0 = Clock::now();
  for (int i = 0; i < kAllocs; ++i) {
    auto t = Clock::now();
    auto r = ipam->autoAssign(args("bench", fmt::format("pod-{}", i)));
    const double took = secondsSince(t);
    check(r, "allocate");
    auto block = brindle::Cidr::parse(r->ipv4[0].address().toString() + "/26");
    if (block->toString() == lastBlock) {
      affineSeconds += took;
      ++affineCount;
    } else {
      claimSeconds += took;
      ++claimCount;
      lastBlock = block->toString();
    }
  }
  double s = secondsSince(t0);
  fmt::print("allocations from an affine block: {:.0f}/s ({:.3f} ms each, {} allocations)\n",
             affineCount / affineSeconds, 1000 * affineSeconds / affineCount, affineCount);
  fmt::print("allocations that claimed a block: {:.3f} ms each ({} of them)\n",
             1000 * claimSeconds / claimCount, claimCount);
  fmt::print("all {} allocations: {:.0f}/s\n", kAllocs, kAllocs / s);

  // Larger blocks cost more per allocation: each write rewrites the whole block record.
  createPool(client, "big", "10.1.0.0/16", 20);
  brindle::ipam::AssignArgs big = args("bench", "big-warm");
  big.ipv4Pools = {"big"};
  check(ipam->autoAssign(big), "warm big block");
  constexpr int kBig = 200;
  t0 = Clock::now();
  for (int i = 0; i < kBig; ++i) {
    big.handle = fmt::format("big-{}", i);
    check(ipam->autoAssign(big), "allocate from /20");
  }
  s = secondsSince(t0);
  fmt::print("allocations from an affine /20 block (4096 addresses): {:.0f}/s ({:.3f} ms each)\n",
             kBig / s, 1000 * s / kBig);

  // 2. Releases: half by handle (the CNI DEL path), half by IP (brindlectl ipam release).
  t0 = Clock::now();
  for (int i = 0; i < kAllocs / 2; ++i) {
    check(ipam->releaseByHandle(fmt::format("pod-{}", i)), "release by handle");
  }
  s = secondsSince(t0);
  fmt::print("releases by handle: {:.0f}/s ({:.3f} ms each)\n", (kAllocs / 2) / s,
             1000 * s / (kAllocs / 2));
  auto all = ipam->listAllocations();
  check(all, "list");
  std::vector<brindle::IpAddr> ips;
  for (const auto& a : *all) {
    if (a.handle.rfind("pod-", 0) == 0) ips.push_back(a.ip);
  }
  t0 = Clock::now();
  for (const auto& ip : ips) check(ipam->releaseIps({ip}), "release by IP");
  s = secondsSince(t0);
  fmt::print("releases by IP: {:.0f}/s ({:.3f} ms each)\n", ips.size() / s,
             1000 * s / static_cast<double>(ips.size()));

  // 3. First allocation of a node: claims a block (create block + affinity in one txn).
  createPool(client, "claims", "172.16.0.0/12", 26);
  std::vector<double> firstMs, secondMs;
  for (int n = 0; n < 50; ++n) {
    const std::string node = fmt::format("node-{}", n);
    brindle::ipam::AssignArgs a = args(node, node + "-a");
    a.ipv4Pools = {"claims"};
    auto t = Clock::now();
    check(ipam->autoAssign(a), "first allocation of a node");
    firstMs.push_back(1000 * secondsSince(t));
    a.handle = node + "-b";
    t = Clock::now();
    check(ipam->autoAssign(a), "second allocation of a node");
    secondMs.push_back(1000 * secondsSince(t));
  }
  fmt::print("first allocation of a node (claims a block): median {:.3f} ms over 50 nodes\n",
             median(firstMs));
  fmt::print("second allocation (from that block):         median {:.3f} ms; ratio {:.2f}x\n",
             median(secondMs), median(firstMs) / median(secondMs));

  std::filesystem::remove_all(dir);
  return 0;
}
