// Metrics: a small thread-safe registry of counters, gauges and histograms rendered in the
// Prometheus text exposition format (what /metrics serves). Labels only on gauge families (a
// series per label set, replaced as a whole): the agent's refused rules, named.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace brindle::agent {

class Metrics {
 public:
  void defineCounter(const std::string& name, const std::string& help);
  void defineGauge(const std::string& name, const std::string& help);
  // A gauge whose series carry labels; setSeries() replaces them all.
  void defineGaugeFamily(const std::string& name, const std::string& help);
  // labels text ("policy=\"p\",rule=\"1\"", values escaped by the caller) -> value.
  void setSeries(const std::string& family, std::map<std::string, double> series);
  // `buckets`: upper bounds in increasing order (+Inf is added).
  void defineHistogram(const std::string& name, const std::string& help,
                       std::vector<double> buckets);

  // Undefined names are a programming error and abort.
  void add(const std::string& counter, double delta = 1);
  void set(const std::string& gauge, double value);
  void observe(const std::string& histogram, double value);

  double value(const std::string& name) const;  // counter/gauge value, histogram count
  std::string render() const;                   // text format 0.0.4

 private:
  enum class Type { kCounter, kGauge, kHistogram, kGaugeFamily };
  struct Metric {
    Type type;
    std::string help;
    double value = 0;
    std::vector<double> bounds{};
    std::vector<uint64_t> counts{};  // per bound (not cumulative), last = +Inf
    double sum = 0;
    uint64_t count = 0;
    std::map<std::string, double> series{};  // gauge families: labels text -> value
  };
  Metric& find(const std::string& name, Type type);

  mutable std::mutex mu_;
  std::vector<std::string> order_;
  std::map<std::string, Metric> metrics_;
};

// The agent's metric names (Felix's, with a brindle_ prefix), defined by defineAgentMetrics().
namespace metric {
inline constexpr const char* kApplySeconds = "brindle_dataplane_apply_seconds";
inline constexpr const char* kApplyErrors = "brindle_dataplane_apply_errors_total";
inline constexpr const char* kRestoreCalls = "brindle_iptables_restore_calls_total";
inline constexpr const char* kRestoreErrors = "brindle_iptables_restore_errors_total";
inline constexpr const char* kSaveCalls = "brindle_iptables_save_calls_total";
inline constexpr const char* kChains = "brindle_iptables_chains";
inline constexpr const char* kRules = "brindle_iptables_rules";
inline constexpr const char* kIpsetRestoreCalls = "brindle_ipset_restore_calls_total";
inline constexpr const char* kIpsetRestoreErrors = "brindle_ipset_restore_errors_total";
inline constexpr const char* kIpsets = "brindle_ipsets";
inline constexpr const char* kIpsetMembers = "brindle_ipset_members";
inline constexpr const char* kNftTransactions = "brindle_nftables_transactions_total";
inline constexpr const char* kNftErrors = "brindle_nftables_transaction_errors_total";
inline constexpr const char* kNftLists = "brindle_nftables_list_calls_total";
inline constexpr const char* kNftSets = "brindle_nftables_sets";
inline constexpr const char* kNftSetMembers = "brindle_nftables_set_members";
inline constexpr const char* kRoutes = "brindle_routes";
inline constexpr const char* kEndpoints = "brindle_active_local_endpoints";
inline constexpr const char* kPolicies = "brindle_active_local_policies";
inline constexpr const char* kProfiles = "brindle_active_local_profiles";
inline constexpr const char* kResyncs = "brindle_resyncs_total";
inline constexpr const char* kDatastoreUpdates = "brindle_datastore_updates_total";
inline constexpr const char* kInSync = "brindle_in_sync";
inline constexpr const char* kAppliedUpdates = "brindle_applied_datastore_updates";
inline constexpr const char* kRefusedRules = "brindle_dataplane_refused_rules";
inline constexpr const char* kRefusals = "brindle_dataplane_refusals_total";
inline constexpr const char* kBadValues = "brindle_datastore_bad_values";
inline constexpr const char* kBadValuesTotal = "brindle_datastore_bad_values_total";
}  // namespace metric

void defineAgentMetrics(Metrics& m);

}  // namespace brindle::agent
