// The differential policy test: per seed, three random valid states A, B and C; the real agent
// enforces A from a cold start (empty kernel, empty store), then B written while it runs, then C
// written while it is stopped; after each, random TCP/UDP/ICMP probes between the lab's hosts are
// compared one by one with the reference model. Root only (namespaces).
//
//   POLICY_DIFF_SEED=N               run just seed N (what a mismatch's replay line sets)
//   POLICY_DIFF_SEEDS=N              run seeds FIRST..FIRST+N-1 (default 20)
//   POLICY_DIFF_FIRST_SEED=N         (default 1)
//   POLICY_DIFF_PROBES=N             probes per state (default 40)
//   POLICY_DIFF_AVOID=a,b            keep states away from these renderer bugs (knownBugs())
//   POLICY_DIFF_AVOID_KNOWN_BUGS=1   ... from all of them
//   POLICY_DIFF_PRINT_ONLY=1         print the seeds' states and the model's verdicts; no lab
//   POLICY_DIFF_VERBOSE=1            print every state and probe, not only mismatches
//   POLICY_DIFF_AGENT=PATH           another brindle-agent binary (default: this build's)
//   POLICY_DIFF_AGENT_WRAPPER=CMD    run the agent under CMD (e.g. "gdb -batch -ex run -ex bt
//                                    --args"), its output in the agent log
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "policy_diff/generator.h"
#include "policy_diff/lab.h"
#include "policy_diff/reference_model.h"

namespace brindle::policydiff {
namespace {

using namespace std::chrono_literals;

long envNumber(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

std::string selfPath() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "policy_diff_test";
}

std::string hostName(const State& state, const std::string& ip) {
  for (const auto& ep : state.endpoints) {
    if (ep.ip == ip) return ip + " (" + ep.ns + "/" + ep.workload + ")";
  }
  return ip + " (outside)";
}

// Set by SIGINT/SIGTERM/SIGHUP: the run stops after the current seed, so that the lab's destructor
// still kills the agent and servers and deletes the namespaces.
volatile std::sig_atomic_t stopRequested = 0;
void requestStop(int) { stopRequested = 1; }

size_t probesPerState() { return static_cast<size_t>(envNumber("POLICY_DIFF_PROBES", 40)); }

std::string avoidList(const GeneratorOptions& options) {
  std::string out;
  for (const auto& name : options.avoid) out += (out.empty() ? "" : ",") + name;
  return out;
}

struct Totals {
  size_t probes = 0, ambiguous = 0, mismatches = 0, retried = 0, refused = 0, notApplied = 0,
         agentDeaths = 0, refusedRules = 0, wrongBackend = 0;
};

class Runner {
 public:
  Runner(Lab& lab, GeneratorOptions options, bool verbose)
      : lab_(lab), options_(options), verbose_(verbose) {}

  void runSeed(uint64_t seed) {
    seed_ = seed;
    Generator gen(seed, options_);
    State a = gen.state(), b = gen.state(), c = gen.state();
    auto pa = gen.probes(probesPerState()), pb = gen.probes(probesPerState()),
         pc = gen.probes(probesPerState());
    totals_.refused += static_cast<size_t>(gen.refused());
    auto ra = a.resources(Lab::kNode), rb = b.resources(Lab::kNode), rc = c.resources(Lab::kNode);

    // Cold start: nothing in the kernel or the store from an earlier seed.
    lab_.stopAgent();
    lab_.wipeKernel();
    lab_.clearStore();
    lab_.switchState({}, ra);
    note(lab_.startAgent(10s), "cold start: agent not ready within 10 s");
    compare("cold start on A", nullptr, a, pa);

    // Live change: B written while the agent runs.
    double before = lab_.metric("brindle_datastore_updates_total");
    size_t n = lab_.switchState(ra, rb);
    note(lab_.waitApplied(before, n, 10s), "live change: agent did not apply B within 10 s");
    compare("live change A -> B", &a, b, pb);

    // Changed while stopped: C written with the agent down, then the agent started on it.
    lab_.stopAgent();
    lab_.switchState(rb, rc);
    note(lab_.startAgent(10s), "restart: agent not ready within 10 s on C");
    compare("agent stopped, B -> C, restarted", &b, c, pc);
  }

  const Totals& totals() const { return totals_; }

 private:
  void note(bool ok, const std::string& what) {
    std::string death = lab_.agentDeath();
    if (!death.empty()) {
      ++totals_.agentDeaths;
      std::printf("seed %llu: the agent %s (%s)\n", seedArg(), death.c_str(), what.c_str());
    }
    if (ok && death.empty()) return;
    ++totals_.notApplied;
    std::printf("seed %llu: %s\n--- agent log (tail) ---\n%s\n", seedArg(), what.c_str(),
                lab_.agentLogTail(15).c_str());
  }

  // The replay line repeats the bugs this run avoided (the seed draws other states without them)
  // and the agent binary it ran.
  std::string avoidPrefix() const {
    std::string out;
    if (const char* agent = std::getenv("POLICY_DIFF_AGENT"); agent && *agent) {
      out += "POLICY_DIFF_AGENT=" + std::string(agent) + " ";
    }
    if (!options_.avoid.empty()) out += "POLICY_DIFF_AVOID=" + avoidList(options_) + " ";
    return out;
  }

  unsigned long long seedArg() const { return static_cast<unsigned long long>(seed_); }

  void compare(const std::string& phase, const State* previous, const State& state,
               const std::vector<Packet>& packets) {
    // Every generated state is valid: a rule the kernel refused (and the agent replaced by a
    // DROP) is a failure even where no probe happens to cross it.
    for (const auto& series : lab_.nonZeroSeries("brindle_dataplane_refused_rules")) {
      ++totals_.refusedRules;
      std::printf("REFUSED seed %llu, %s: %s\n  replay: %sPOLICY_DIFF_SEED=%llu %s\n", seedArg(),
                  phase.c_str(), series.c_str(), avoidPrefix().c_str(), seedArg(),
                  selfPath().c_str());
    }
    if (std::string problem = lab_.backendProblem(); !problem.empty()) {
      ++totals_.wrongBackend;
      std::printf("WRONG BACKEND seed %llu, %s:\n%s", seedArg(), phase.c_str(), problem.c_str());
    }
    auto observed = lab_.probe(packets, 800ms);
    std::vector<ModelAnswer> answers;
    std::vector<Packet> again;
    std::vector<size_t> againIndex;
    for (size_t i = 0; i < packets.size(); ++i) {
      answers.push_back(decideAllReadings(state, packets[i]));
      if (!answers[i].ambiguous && observed[i] != answers[i].verdict.allowed) {
        again.push_back(packets[i]);
        againIndex.push_back(i);
      }
    }
    // Disagreements are probed once more, with a longer wait: a loaded machine must not pass
    // for a bug.
    if (!again.empty()) {
      auto second = lab_.probe(again, 2000ms);
      for (size_t k = 0; k < again.size(); ++k) observed[againIndex[k]] = second[k];
      totals_.retried += again.size();
    }
    bool printedState = false;
    if (verbose_) {
      std::printf("=== seed %llu, %s ===\n%s\n", seedArg(), phase.c_str(),
                  state.yaml(Lab::kNode).c_str());
    }
    for (size_t i = 0; i < packets.size(); ++i) {
      const Packet& p = packets[i];
      const ModelAnswer& m = answers[i];
      ++totals_.probes;
      bool got = observed[i];
      if (verbose_) {
        std::printf("  %s: model %s%s, observed %s (%s)\n", p.text().c_str(),
                    m.verdict.allowed ? "allowed" : "denied", m.ambiguous ? " (ambiguous)" : "",
                    got ? "allowed" : "denied", m.verdict.reason.c_str());
      }
      if (m.ambiguous) {
        ++totals_.ambiguous;
        continue;
      }
      if (got == m.verdict.allowed) continue;
      ++totals_.mismatches;
      if (!printedState) {
        printedState = true;
        std::printf("\n=== MISMATCH seed %llu, %s ===\n", seedArg(), phase.c_str());
        if (previous) {
          std::printf("--- state before the change ---\n%s", previous->yaml(Lab::kNode).c_str());
        }
        std::printf("--- state ---\n%s", state.yaml(Lab::kNode).c_str());
      }
      std::printf(
          "MISMATCH seed %llu, %s: %s -> %s %s\n  model: %s by %s\n  observed: %s\n"
          "  replay: %sPOLICY_DIFF_SEED=%llu %s\n",
          seedArg(), phase.c_str(), hostName(state, p.srcIp).c_str(),
          hostName(state, p.dstIp).c_str(),
          (p.proto + (p.proto == "icmp" ? "" : "/" + std::to_string(p.port))).c_str(),
          m.verdict.allowed ? "allowed" : "denied", m.verdict.reason.c_str(),
          got ? "allowed" : "denied", avoidPrefix().c_str(), seedArg(), selfPath().c_str());
    }
    std::fflush(stdout);
  }

  Lab& lab_;
  GeneratorOptions options_;
  bool verbose_;
  uint64_t seed_ = 0;
  Totals totals_;
};

TEST(PolicyDiff, RandomStatesAgreeWithTheModel) {
  GeneratorOptions options;
  if (envNumber("POLICY_DIFF_AVOID_KNOWN_BUGS", 0) != 0) {
    options.avoid.insert(knownBugs().begin(), knownBugs().end());
  }
  if (const char* avoid = std::getenv("POLICY_DIFF_AVOID")) {
    std::stringstream names(avoid);
    for (std::string name; std::getline(names, name, ',');) {
      if (std::find(knownBugs().begin(), knownBugs().end(), name) == knownBugs().end()) {
        FAIL() << "POLICY_DIFF_AVOID: unknown bug name " << name;
      }
      options.avoid.insert(name);
    }
  }
  long first = envNumber("POLICY_DIFF_FIRST_SEED", 1);
  long count = envNumber("POLICY_DIFF_SEEDS", 20);
  if (std::getenv("POLICY_DIFF_SEED")) {
    first = envNumber("POLICY_DIFF_SEED", 1);
    count = 1;
  }
  if (envNumber("POLICY_DIFF_PRINT_ONLY", 0) != 0) {
    // The seeds' states and the model's verdicts, without a lab (no root needed).
    for (long seed = first; seed < first + count; ++seed) {
      Generator gen(static_cast<uint64_t>(seed), options);
      State states[3] = {gen.state(), gen.state(), gen.state()};
      for (const State& st : states) {
        std::printf("=== seed %ld ===\n%s", seed, st.yaml(Lab::kNode).c_str());
      }
      for (const State& st : states) {
        for (const Packet& p : gen.probes(probesPerState())) {
          Verdict v = decide(st, p, Reading{});
          std::printf("  %s: %s (%s)\n", p.text().c_str(), v.allowed ? "allowed" : "denied",
                      v.reason.c_str());
        }
      }
    }
    return;
  }
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
  const char* agent = std::getenv("POLICY_DIFF_AGENT");
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, requestStop);
  // Output piped into `head` or `grep -m` must not kill the run before it cleans up.
  std::signal(SIGPIPE, SIG_IGN);
  Lab lab(agent && *agent ? agent : BRINDLE_AGENT_BINARY, AGENT_PROBE_BINARY);
  Runner runner(lab, options, envNumber("POLICY_DIFF_VERBOSE", 0) != 0);
  auto start = std::chrono::steady_clock::now();
  long ran = 0;
  for (long seed = first; seed < first + count && !stopRequested; ++seed, ++ran) {
    auto t0 = std::chrono::steady_clock::now();
    runner.runSeed(static_cast<uint64_t>(seed));
    std::printf("seed %ld: %.1f s\n", seed,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    std::fflush(stdout);
  }
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Totals& t = runner.totals();
  std::printf(
      "policy_diff: %s dataplane, %ld seeds (%ld..%ld)%s in %.1f s (%.1f s/seed): %zu probes, "
      "%zu mismatches, %zu ambiguous (skipped), %zu re-probed, %zu drafts refused by validation "
      "and redrawn, %zu waits for the agent timed out, %zu agent crashes, %zu rules refused by "
      "the kernel, %zu wrong-backend findings\n",
      testutil::dataplaneName(lab.dataplane()), ran, first, first + ran - 1,
      options.avoid.empty() ? "" : (" avoiding " + avoidList(options)).c_str(), took,
      took / static_cast<double>(std::max(ran, 1L)), t.probes, t.mismatches, t.ambiguous, t.retried,
      t.refused, t.notApplied, t.agentDeaths, t.refusedRules, t.wrongBackend);
  EXPECT_FALSE(stopRequested) << "interrupted";
  EXPECT_EQ(t.mismatches, 0u) << "see the MISMATCH lines above; each has a replay command";
  EXPECT_EQ(t.notApplied, 0u) << "the agent failed to become ready or to apply a state";
  EXPECT_EQ(t.agentDeaths, 0u) << "the agent died";
  EXPECT_EQ(t.refusedRules, 0u) << "the kernel refused rules of valid states (REFUSED lines)";
  EXPECT_EQ(t.wrongBackend, 0u) << "rules missing from the backend under test or left in the "
                                   "other (WRONG BACKEND lines)";
}

}  // namespace
}  // namespace brindle::policydiff
