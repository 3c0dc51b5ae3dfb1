// What every brindlectl command shares: its streams and a lazily opened datastore.
#pragma once

#include <memory>
#include <string>

#include "cli/app.h"
#include "common/result.h"
#include "datastore/client.h"
#include "resources/resource_store.h"

namespace brindle::cli {

class Session {
 public:
  Session(Io& io, std::string configPath) : io_(io), configPath_(std::move(configPath)) {}

  std::ostream& out() { return io_.out; }
  std::ostream& err() { return io_.err; }
  std::istream& in() { return io_.in; }
  // --config as given ("" when the file or environment default applies) and the environment the
  // command sees: what a daemon it starts must inherit to reach the same datastore.
  const std::string& configPath() const { return configPath_; }
  const std::map<std::string, std::string>& env() const { return io_.env; }

  // Opens the configured datastore on first use; prints configuration notes to stderr. A command
  // that only reads passes kRead: an embedded store that does not exist is then not created.
  enum class Access { kWrite, kRead };
  Result<resources::ResourceStore*> store(Access access = Access::kWrite);
  // The raw key/value client under store(), for commands below the resource layer (ipam).
  Result<datastore::Client*> client();

  // Prints "Warning: ..." lines.
  void warn(const std::vector<std::string>& warnings);

 private:
  Io& io_;
  std::string configPath_;
  datastore::ClientPtr client_;
  std::unique_ptr<resources::ResourceStore> store_;
};

}  // namespace brindle::cli
