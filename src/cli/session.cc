// Session: configuration loading and datastore opening for brindlectl.
#include "cli/session.h"

#include "config/datastore_config.h"
#include "config/open_datastore.h"

namespace brindle::cli {

Result<resources::ResourceStore*> Session::store(Access access) {
  if (store_) return store_.get();
  BRINDLE_ASSIGN_OR_RETURN(auto cfg, config::loadDatastoreConfig(configPath_, io_.env));
  for (const auto& note : cfg.notes) io_.err << "Note: " << note << "\n";
  auto client =
      config::openDatastore(cfg, access == Access::kRead ? config::OpenMode::kReadOnly
                                                         : config::OpenMode::kCreateIfMissing);
  if (!client) return client.error();
  client_ = std::move(*client);
  store_ = std::make_unique<resources::ResourceStore>(*client_);
  return store_.get();
}

Result<datastore::Client*> Session::client() {
  if (auto s = store(); !s) return s.error();
  return client_.get();
}

void Session::warn(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) io_.err << "Warning: " << w << "\n";
}

}  // namespace brindle::cli
