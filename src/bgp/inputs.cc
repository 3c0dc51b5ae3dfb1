#include "bgp/inputs.h"

#include <fstream>
#include <sstream>

#include "resources/resource_store.h"

namespace brindle::bgp {
namespace {

void readSecret(const std::string& dir, const model::SecretRef& ref, Inputs& in) {
  std::ifstream file(dir + "/" + ref.name + "/" + ref.key);
  if (!file) return;  // computeNodeConfig names the missing secret
  std::stringstream text;
  text << file.rdbuf();
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  in.secrets[ref] = value;
}

}  // namespace

Result<Inputs> readInputs(datastore::Client& client, const std::string& secretsDir) {
  resources::ResourceStore store(client);
  Inputs in;
  using model::Kind;
  for (auto [kind, out] :
       {std::pair{Kind::kNode, &in.nodes}, std::pair{Kind::kBGPPeer, &in.peers},
        std::pair{Kind::kBGPConfiguration, &in.configs}, std::pair{Kind::kIPPool, &in.pools},
        std::pair{Kind::kBGPFilter, &in.filters}}) {
    auto list = store.list(kind);
    if (!list) return list.error();
    *out = std::move(*list);
  }
  auto blocks = client.list(model::kIpamBlockPrefix);
  if (!blocks) return blocks.error();
  for (const auto& kv : blocks->items) {
    auto block = model::IpamBlockView::decode(kv.value);
    if (!block) return makeError(ErrorCode::kCorrupt, kv.key + ": " + block.message());
    in.blocks.push_back(std::move(*block));
  }
  for (const auto& r : in.peers) {
    if (auto view = model::bgpPeerView(r); view && view->password) {
      readSecret(secretsDir, *view->password, in);
    }
  }
  for (const auto& r : in.configs) {
    if (auto view = model::bgpConfigView(r); view && view->nodeMeshPassword) {
      readSecret(secretsDir, *view->nodeMeshPassword, in);
    }
  }
  return in;
}

}  // namespace brindle::bgp
