// Workload names: SHA-1 for the veth name, Calico's escaping for endpoint names.
#include "cni/naming.h"

#include <array>
#include <cstdint>
#include <cstdio>

namespace brindle::cni {

WorkloadIds workloadIds(const CniEnv& env, const std::string& node) {
  WorkloadIds ids;
  ids.node = node;
  ids.endpoint = env.ifName;
  ids.containerId = env.containerId;
  const std::string podNs = env.arg("K8S_POD_NAMESPACE");
  const std::string pod = env.arg("K8S_POD_NAME");
  if (!podNs.empty() && !pod.empty()) {
    ids.orchestrator = "k8s";
    ids.ns = podNs;
    ids.pod = pod;
    ids.workload = pod;
  } else {
    ids.orchestrator = "cni";
    ids.ns = "default";
    ids.workload = env.containerId;
  }
  return ids;
}

std::string workloadKey(const WorkloadIds& ids) {
  return ids.orchestrator == "k8s" ? ids.ns + "." + ids.pod : ids.containerId;
}

std::string hostVethName(const WorkloadIds& ids) {
  return "cali" + sha1Hex(workloadKey(ids)).substr(0, 11);
}

namespace {
std::string escape(const std::string& part) {
  std::string out;
  for (char c : part) {
    out += c;
    if (c == '-') out += '-';
  }
  return out;
}
}  // namespace

std::string endpointName(const WorkloadIds& ids) {
  return escape(ids.node) + "-" + escape(ids.orchestrator) + "-" + escape(ids.workload) + "-" +
         escape(ids.endpoint);
}

std::string ipamHandle(const std::string& network, const std::string& containerId) {
  return network + "." + containerId;
}

std::string sha1Hex(const std::string& data) {
  // FIPS 180-4 SHA-1; small enough to carry here rather than pull in a crypto library.
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string msg = data;
  const uint64_t bitLen = static_cast<uint64_t>(data.size()) * 8;
  msg += static_cast<char>(0x80);
  while (msg.size() % 64 != 56) msg += static_cast<char>(0);
  for (int i = 7; i >= 0; --i) msg += static_cast<char>((bitLen >> (i * 8)) & 0xff);
  auto rol = [](uint32_t v, int n) { return (v << n) | (v >> (32 - n)); };
  for (size_t off = 0; off < msg.size(); off += 64) {
    std::array<uint32_t, 80> w{};
    for (int i = 0; i < 16; ++i) {
      w[i] = (uint32_t(uint8_t(msg[off + 4 * i])) << 24) |
             (uint32_t(uint8_t(msg[off + 4 * i + 1])) << 16) |
             (uint32_t(uint8_t(msg[off + 4 * i + 2])) << 8) |
             uint32_t(uint8_t(msg[off + 4 * i + 3]));
    }
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  char out[41];
  for (int i = 0; i < 5; ++i) std::snprintf(out + i * 8, 9, "%08x", h[i]);
  return std::string(out, 40);
}

}  // namespace brindle::cni
