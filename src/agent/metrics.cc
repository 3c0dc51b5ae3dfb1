// Prometheus text rendering of the agent's metrics.
#include "agent/metrics.h"

#include <cmath>
#include <cstdio>

#include "common/check.h"

namespace brindle::agent {

namespace {

std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void Metrics::defineCounter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  if (metrics_.emplace(name, Metric{Type::kCounter, help}).second) order_.push_back(name);
}

void Metrics::defineGauge(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  if (metrics_.emplace(name, Metric{Type::kGauge, help}).second) order_.push_back(name);
}

void Metrics::defineGaugeFamily(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  if (metrics_.emplace(name, Metric{Type::kGaugeFamily, help}).second) order_.push_back(name);
}

void Metrics::setSeries(const std::string& family, std::map<std::string, double> series) {
  std::lock_guard lock(mu_);
  find(family, Type::kGaugeFamily).series = std::move(series);
}

void Metrics::defineHistogram(const std::string& name, const std::string& help,
                              std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  Metric m{Type::kHistogram, help};
  m.counts.assign(buckets.size() + 1, 0);
  m.bounds = std::move(buckets);
  if (metrics_.emplace(name, std::move(m)).second) order_.push_back(name);
}

Metrics::Metric& Metrics::find(const std::string& name, Type type) {
  auto it = metrics_.find(name);
  BRINDLE_CHECK(it != metrics_.end() && it->second.type == type,
                "metric " + name + " used before it was defined (or with the wrong type)");
  return it->second;
}

void Metrics::add(const std::string& counter, double delta) {
  std::lock_guard lock(mu_);
  find(counter, Type::kCounter).value += delta;
}

void Metrics::set(const std::string& gauge, double value) {
  std::lock_guard lock(mu_);
  find(gauge, Type::kGauge).value = value;
}

void Metrics::observe(const std::string& histogram, double value) {
  std::lock_guard lock(mu_);
  Metric& m = find(histogram, Type::kHistogram);
  size_t i = 0;
  while (i < m.bounds.size() && value > m.bounds[i]) ++i;
  ++m.counts[i];
  m.sum += value;
  ++m.count;
}

double Metrics::value(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = metrics_.find(name);
  if (it == metrics_.end()) return 0;
  if (it->second.type == Type::kGaugeFamily) return static_cast<double>(it->second.series.size());
  return it->second.type == Type::kHistogram ? static_cast<double>(it->second.count)
                                             : it->second.value;
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& name : order_) {
    const Metric& m = metrics_.at(name);
    const char* type = m.type == Type::kCounter     ? "counter"
                       : m.type == Type::kHistogram ? "histogram"
                                                    : "gauge";
    out += "# HELP " + name + " " + m.help + "\n# TYPE " + name + " " + type + "\n";
    if (m.type == Type::kGaugeFamily) {
      for (const auto& [labels, value] : m.series)
        out += name + "{" + labels + "} " + num(value) + "\n";
      continue;
    }
    if (m.type != Type::kHistogram) {
      out += name + " " + num(m.value) + "\n";
      continue;
    }
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= m.bounds.size(); ++i) {
      cumulative += m.counts[i];
      std::string le = i < m.bounds.size() ? num(m.bounds[i]) : "+Inf";
      out += name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += name + "_sum " + num(m.sum) + "\n";
    out += name + "_count " + std::to_string(m.count) + "\n";
  }
  return out;
}

void defineAgentMetrics(Metrics& m) {
  using namespace metric;
  m.defineHistogram(kApplySeconds, "Time to apply one batch to the dataplane (seconds).",
                    {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  m.defineCounter(kApplyErrors, "Dataplane applies that failed (retried with back-off).");
  m.defineCounter(kRestoreCalls, "iptables-restore runs.");
  m.defineCounter(kRestoreErrors, "iptables-restore runs that failed.");
  m.defineCounter(kSaveCalls, "iptables-save runs (start-up and refreshes).");
  m.defineGauge(kChains, "cali- chains programmed, all tables and IP versions.");
  m.defineGauge(kRules, "Rules in the programmed cali- chains.");
  m.defineCounter(kIpsetRestoreCalls, "ipset restore runs.");
  m.defineCounter(kIpsetRestoreErrors, "ipset restore runs that failed.");
  m.defineGauge(kIpsets, "cali ipsets programmed (both families).");
  m.defineGauge(kIpsetMembers, "Members of the programmed cali ipsets.");
  m.defineCounter(kNftTransactions, "nftables transactions run (nftables mode).");
  m.defineCounter(kNftErrors, "nftables transactions that failed (nftables mode).");
  m.defineCounter(kNftLists, "Listings of the nftables table (start-up and refreshes).");
  m.defineGauge(kNftSets, "Named sets in the nftables table (selector and port sets).");
  m.defineGauge(kNftSetMembers, "Members of the selector sets in the nftables table.");
  m.defineGauge(kRoutes, "Routes the agent owns (workload and blackhole).");
  m.defineGauge(kEndpoints, "Active local endpoints (workload and host).");
  m.defineGauge(kPolicies, "Active local policies.");
  m.defineGauge(kProfiles, "Active local profiles.");
  m.defineCounter(kResyncs, "Refreshes that re-read the kernel to repair drift.");
  m.defineCounter(kDatastoreUpdates, "Updates received from the datastore.");
  m.defineGauge(kInSync, "1 once the agent is in sync with the datastore.");
  m.defineGauge(kAppliedUpdates,
                "Datastore updates received before the last successful apply (all of them are in "
                "the kernel once this equals brindle_datastore_updates_total).");
  m.defineGaugeFamily(kRefusedRules,
                      "Policy and profile rules the kernel refused, each replaced by a DROP (1 a "
                      "rule; labels: kind, name, direction, rule index, ip_version).");
  m.defineCounter(kRefusals, "Applies in which the kernel refused rules that were then isolated.");
  m.defineGauge(kBadValues, "Datastore keys whose current value is skipped as unreadable.");
  m.defineCounter(kBadValuesTotal, "Unreadable datastore values skipped (each value once).");
}

}  // namespace brindle::agent
