// Selector benchmark: evaluations per second of representative selectors against ~6-label
// endpoints, parses per second, and compiled evaluation vs. parse-and-evaluate side by side.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/labels.h"
#include "selector/selector.h"

namespace {

using brindle::Labels;
using brindle::selector::Selector;
using Clock = std::chrono::steady_clock;

// Each figure is measured for this long; the whole run stays well under ten seconds.
constexpr double kSecondsPerFigure = 0.4;

struct Case {
  const char* name;
  const char* text;
};

const Case kCases[] = {
    {"simple ==", R"(app == "web")"},
    {"3-term &&", R"(app == "web" && tier == "frontend" && env == "prod")"},
    {"in {10 values}", R"(tier in {"a", "b", "c", "d", "e", "f", "g", "frontend", "h", "i"})"},
    {"has()", "has(projectcalico.org/namespace)"},
    {"5-term mixed", R"(app == "web" && tier in {"frontend", "backend"} && !has(debug) && )"
                     R"(version starts with "v1" || projectcalico.org/namespace != "kube-system")"},
};

// Typical workload labels: some endpoints match, some differ early, some late.
std::vector<Labels> endpoints() {
  return {
      {{"app", "web"},
       {"tier", "frontend"},
       {"env", "prod"},
       {"version", "v1.4"},
       {"projectcalico.org/namespace", "shop"},
       {"projectcalico.org/orchestrator", "k8s"}},
      {{"app", "db"},
       {"tier", "backend"},
       {"env", "prod"},
       {"version", "v2.0"},
       {"projectcalico.org/namespace", "kube-system"},
       {"projectcalico.org/orchestrator", "k8s"}},
      {{"app", "web"},
       {"tier", "frontend"},
       {"env", "staging"},
       {"debug", "true"},
       {"projectcalico.org/namespace", "shop"},
       {"pod-template-hash", "5d8f7c9b4"}},
      {{"k8s-app", "kube-dns"},
       {"tier", "z"},
       {"env", "prod"},
       {"version", "v1.0"},
       {"projectcalico.org/orchestrator", "k8s"},
       {"pod-template-hash", "7f6b8c5d2"}},
  };
}

// Runs `body(i)` in batches until kSecondsPerFigure has passed; returns operations per second.
template <typename Body>
double opsPerSecond(Body body) {
  constexpr long kBatch = 1024;
  long done = 0;
  auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < kSecondsPerFigure) {
    for (long i = 0; i < kBatch; ++i) body(done + i);
    done += kBatch;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return static_cast<double>(done) / elapsed;
}

Selector mustParse(const char* text) {
  auto sel = Selector::parse(text);
  if (!sel) {
    std::fprintf(stderr, "bench_selector: cannot parse %s: %s\n", text, sel.message().c_str());
    std::exit(1);
  }
  return *sel;
}

// Printed at the end so the compiler cannot drop the evaluations as unused.
long gSink = 0;

}  // namespace

int main() {
  const std::vector<Labels> labels = endpoints();
  const std::size_t n = labels.size();

  for (const Case& c : kCases) {
    Selector sel = mustParse(c.text);
    double rate = opsPerSecond([&](long i) { gSink += sel.matches(labels[i % n]); });
    std::printf("selector eval (%s): %.1f M/s\n", c.name, rate / 1e6);
  }

  for (const Case& c : kCases) {
    double rate = opsPerSecond([&](long) { gSink += Selector::parse(c.text).isOk(); });
    std::printf("selector parse (%s): %.2f M/s\n", c.name, rate / 1e6);
  }

  // Side by side: the point of compiling a selector once.
  const Case& mixed = kCases[4];
  Selector compiled = mustParse(mixed.text);
  double compiledRate = opsPerSecond([&](long i) { gSink += compiled.matches(labels[i % n]); });
  double reparseRate =
      opsPerSecond([&](long i) { gSink += Selector::parse(mixed.text)->matches(labels[i % n]); });
  std::printf("selector eval (%s) compiled vs parse+eval: %.1f M/s vs %.2f M/s = %.0fx\n",
              mixed.name, compiledRate / 1e6, reparseRate / 1e6, compiledRate / reparseRate);
  std::fflush(stdout);
  std::fprintf(stderr, "(checksum %ld)\n", gSink);
  return 0;
}
