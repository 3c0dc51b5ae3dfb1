// The diags collector: runs each tool and HTTP fetch into a staging directory, copies the logs,
// then packs the directory with tar.
#include "node/diags.h"

#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace brindle::node {
namespace fs = std::filesystem;
namespace {

// A tool's output saved as `file`; `fallback` runs when the first form fails (an iproute2
// without -j JSON) and is saved as `fallbackFile`.
struct ToolItem {
  std::string file;
  std::vector<std::string> argv;
  std::string fallbackFile;
  std::vector<std::string> fallback;
};

std::vector<ToolItem> toolItems(const std::string& nodeRunDir) {
  std::vector<ToolItem> items = {
      {"iptables-save.txt", {"iptables-save"}, "", {}},
      {"ip6tables-save.txt", {"ip6tables-save"}, "", {}},
      {"ipset-list.txt", {"ipset", "list"}, "", {}},
      {"nft-table.txt", {"nft", "list", "table", "inet", "calico"}, "", {}},  // nftables mode
  };
  // iproute2 lists IPv4 routes and rules unless told -6.
  const std::vector<std::pair<std::string, std::vector<std::string>>> ip = {
      {"ip-route", {"-d", "route", "show", "table", "all"}},
      {"ip6-route", {"-6", "-d", "route", "show", "table", "all"}},
      {"ip-rule", {"rule", "show"}},
      {"ip6-rule", {"-6", "rule", "show"}},
      {"ip-link", {"-d", "link", "show"}},
      {"ip-addr", {"addr", "show"}},
  };
  for (const auto& [name, args] : ip) {
    std::vector<std::string> json = {"ip", "-j"}, text = {"ip"};
    json.insert(json.end(), args.begin(), args.end());
    text.insert(text.end(), args.begin(), args.end());
    items.push_back({name + ".json", json, name + ".txt", text});
  }
  for (const std::string bird : {"bird", "bird6"}) {
    const std::string sock = nodeRunDir + "/" + bird + ".ctl";
    items.push_back(
        {bird + "-protocols.txt", {"birdc", "-s", sock, "show", "protocols", "all"}, "", {}});
    items.push_back({bird + "-routes.txt", {"birdc", "-s", sock, "show", "route"}, "", {}});
  }
  return items;
}

void writeFile(const fs::path& path, const std::string& text) {
  std::error_code ec;  // a file that cannot be written is missing from the tarball, no more
  fs::create_directories(path.parent_path(), ec);
  std::ofstream(path, std::ios::binary) << text;
}

// Saves what the tool printed; on failure also <file>.err with the command, its exit code and
// everything it said (birdc reports errors on stdout). Returns the problem, "" if none.
std::string runTool(os::CommandRunner& runner, const std::vector<std::string>& argv,
                    const fs::path& dir, const std::string& file) {
  os::Command cmd(argv);
  // A wedged tool (birdc on a hung BIRD) must not hold up the rest.
  cmd.timeout = std::chrono::seconds(15);
  auto out = runner.run(cmd);
  std::string problem;
  std::string detail;
  if (!out) {
    problem = out.message();
  } else {
    writeFile(dir / file, out->out);
    if (out->exitCode != 0) {
      detail = out->out + out->err;
      problem =
          "exit code " + std::to_string(out->exitCode) + ": " + detail.substr(0, detail.find('\n'));
    }
  }
  if (!problem.empty()) {
    writeFile(dir / (file + ".err"),
              "command: " + os::commandText(cmd) + "\nerror: " + problem + "\n" + detail);
  }
  return problem;
}

std::string fetch(const HttpGetter& httpGet, const std::string& host, int port,
                  const std::string& path, const fs::path& dir, const std::string& file) {
  auto res = httpGet(host, port, path);
  if (!res) {
    writeFile(dir / (file + ".err"), "GET http://" + host + ":" + std::to_string(port) + path +
                                         "\nerror: " + res.message() + "\n");
    return res.message();
  }
  writeFile(dir / file, res->body);
  return res->status == 200 ? "" : "HTTP " + std::to_string(res->status);
}

// Copies the regular files under `from` matching `keep` into dir/to; a missing directory is the
// item's problem.
template <typename Keep>
std::string copyLogs(const fs::path& from, const fs::path& to, Keep keep) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) return "no directory " + from.string();
  int copied = 0;
  for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || !keep(it->path())) continue;
    const fs::path target = to / fs::relative(it->path(), from, ec);
    fs::create_directories(target.parent_path(), ec);
    fs::copy_file(it->path(), target, fs::copy_options::overwrite_existing, ec);
    if (!ec) ++copied;
  }
  if (ec) return "reading " + from.string() + ": " + ec.message();
  return copied == 0 ? "no log files in " + from.string() : "";
}

std::string utcStamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

}  // namespace

std::string redactedDatastoreConfig(const config::DatastoreConfig& c) {
  std::string out = "source: " + c.source + "\n";
  if (c.type == config::DatastoreType::kLocal) {
    return out + "datastoreType: local\nstorePath: " + c.storePath + "\n";
  }
  out += "datastoreType: etcdv3\netcdEndpoints:";
  for (const auto& e : c.etcdEndpoints) out += " " + e;
  out += "\n";
  auto line = [&out](const char* key, const std::string& value, const char* note = "") {
    if (!value.empty()) out += std::string(key) + ": " + value + note + "\n";
  };
  line("etcdUsername", c.etcdUsername);
  line("etcdPassword", c.etcdPassword.empty() ? "" : "<redacted>");
  line("etcdKeyFile", c.etcdKeyFile, " (contents not included)");
  line("etcdCertFile", c.etcdCertFile, " (contents not included)");
  line("etcdCACertFile", c.etcdCACertFile, " (contents not included)");
  return out;
}

Result<DiagsResult> collectDiags(const DiagsOptions& o, os::CommandRunner& runner,
                                 const HttpGetter& httpGet) {
  if (o.node.empty() || o.node.find('/') != std::string::npos) {
    return makeError(ErrorCode::kInvalid, "--name: not a node name: \"" + o.node + "\"");
  }
  std::error_code ec;
  fs::create_directories(o.outputDir, ec);
  if (ec) return makeError(ErrorCode::kInvalid, "--output " + o.outputDir + ": " + ec.message());
  // Absolute, so the printed path works from anywhere.
  fs::path absolute = fs::absolute(o.outputDir, ec).lexically_normal();
  if (!absolute.has_filename()) absolute = absolute.parent_path();  // "out/" -> "out"
  const std::string outputDir = absolute.string();
  std::string staging = outputDir + "/.brindle-diags-XXXXXX";
  if (::mkdtemp(staging.data()) == nullptr) {
    return makeError(ErrorCode::kInvalid,
                     "--output " + o.outputDir + ": cannot create a directory");
  }
  const std::string base = "brindle-diags-" + o.node + "-" + utcStamp();
  const fs::path dir = fs::path(staging) / base;
  fs::create_directories(dir, ec);

  DiagsResult result;
  const std::string nodeRunDir = o.runDir + "/" + o.node;
  for (const auto& item : toolItems(nodeRunDir)) {
    std::string problem = runTool(runner, item.argv, dir, item.file);
    if (!problem.empty() && !item.fallback.empty()) {
      const std::string second = runTool(runner, item.fallback, dir, item.fallbackFile);
      if (second.empty()) {
        // The text form stands in for the JSON one: drop the failed attempt.
        fs::remove(dir / item.file, ec);
        fs::remove(dir / (item.file + ".err"), ec);
        result.items.push_back({item.fallbackFile, ""});
        continue;
      }
    }
    result.items.push_back({item.file, problem});
  }
  result.items.push_back({"agent-readiness.txt", fetch(httpGet, o.healthHost, o.healthPort,
                                                       "/readiness", dir, "agent-readiness.txt")});
  result.items.push_back({"agent-liveness.txt", fetch(httpGet, o.healthHost, o.healthPort,
                                                      "/liveness", dir, "agent-liveness.txt")});
  result.items.push_back({"agent-metrics.txt", fetch(httpGet, o.metricsHost, o.metricsPort,
                                                     "/metrics", dir, "agent-metrics.txt")});
  result.items.push_back({"logs/agent", copyLogs(fs::path(o.logDir) / o.node, dir / "logs/agent",
                                                 [](const fs::path&) { return true; })});
  result.items.push_back(
      {"logs/bird", copyLogs(nodeRunDir, dir / "logs/bird",
                             [](const fs::path& p) { return p.extension() == ".log"; })});
  writeFile(dir / "datastore.txt", o.datastoreError.empty() ? redactedDatastoreConfig(o.datastore)
                                                            : "error: " + o.datastoreError + "\n");
  result.items.push_back({"datastore.txt", o.datastoreError});
  for (const auto& [file, text] : o.extraFiles) {
    writeFile(dir / file, text);
    result.items.push_back({file, ""});
  }
  std::string index;
  for (const auto& item : result.items) {
    index += item.file + ": " + (item.problem.empty() ? "ok" : item.problem) + "\n";
  }
  writeFile(dir / "index.txt", index);

  result.tarball = outputDir + "/" + base + ".tar.gz";
  auto tar = runner.run(os::Command({"tar", "-czf", result.tarball, "-C", staging, base}));
  fs::remove_all(staging, ec);
  if (!tar) return tar.error();
  if (tar->exitCode != 0) {
    return makeError(ErrorCode::kInternal, "tar -czf " + result.tarball + ": " + tar->err);
  }
  return result;
}

}  // namespace brindle::node
