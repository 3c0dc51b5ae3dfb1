// `brindlectl node diags`: one tarball with what a bug report about a node needs (its logs, the
// kernel's rules, sets, routes and links, BIRD's sessions and routes, the agent's health and
// metrics, the datastore settings without secrets). Every item is best effort: one that cannot
// be collected leaves its error in the tarball instead of stopping the rest.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/datastore_config.h"
#include "os/process.h"

namespace brindle::node {

inline constexpr const char* kDefaultLogDir = "/var/log/brindle";

// An HTTP GET (the CLI passes the agent's client): status and body, or why there was no answer.
struct HttpReply {
  int status = 0;
  std::string body;
};
using HttpGetter =
    std::function<Result<HttpReply>(const std::string& host, int port, const std::string& path)>;

struct DiagsOptions {
  std::string node;
  std::string runDir;     // the agent's BgpRunDir: BIRD's sockets and logs under <runDir>/<node>/
  std::string logDir;     // the agent's logs under <logDir>/<node>/
  std::string outputDir;  // where the tarball goes
  std::string healthHost = "127.0.0.1";
  int healthPort = 9099;
  std::string metricsHost = "127.0.0.1";
  int metricsPort = 9091;
  // The datastore the node uses, or why it could not be read (then `datastoreError` is set).
  config::DatastoreConfig datastore;
  std::string datastoreError;
  // Extra text items computed by the caller (e.g. "checksystem.txt" -> its report).
  std::vector<std::pair<std::string, std::string>> extraFiles;
};

// One line per item of the tarball's index.txt: the file, then "ok" or why it failed.
struct DiagsItem {
  std::string file;
  std::string problem;  // "" when collected
};

struct DiagsResult {
  std::string tarball;
  std::vector<DiagsItem> items;
};

// Collects everything into a fresh directory, packs it with tar and removes the directory. An
// Error only when the tarball itself cannot be written.
Result<DiagsResult> collectDiags(const DiagsOptions& options, os::CommandRunner& runner,
                                 const HttpGetter& httpGet);

// The datastore settings as `key: value` lines: the etcd password as "<redacted>", certificate
// and key files by path only (their contents never leave the host).
std::string redactedDatastoreConfig(const config::DatastoreConfig& config);

}  // namespace brindle::node
