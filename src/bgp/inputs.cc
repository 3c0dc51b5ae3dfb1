#include "bgp/inputs.h"

#include <fstream>
#include <iterator>
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

// The kinds BGP reads (beside IPAM blocks), in Inputs' order.
constexpr model::Kind kInputKinds[] = {model::Kind::kNode, model::Kind::kBGPPeer,
                                       model::Kind::kBGPConfiguration, model::Kind::kIPPool,
                                       model::Kind::kBGPFilter};

}  // namespace

bool isInputKey(std::string_view key) {
  if (key.starts_with(model::kIpamBlockPrefix)) return true;
  for (model::Kind kind : kInputKinds) {
    if (key.starts_with(model::kindPrefix(kind))) return true;
  }
  return false;
}

Result<Inputs> readInputs(datastore::Client& client, const std::string& secretsDir) {
  resources::ResourceStore store(client);
  Inputs in;
  std::vector<model::Resource>* outs[] = {&in.nodes, &in.peers, &in.configs, &in.pools,
                                          &in.filters};
  for (size_t i = 0; i < std::size(kInputKinds); ++i) {
    const model::Kind kind = kInputKinds[i];
    std::vector<model::Resource>* out = outs[i];
    BRINDLE_ASSIGN_OR_RETURN(auto list, store.list(kind));
    *out = std::move(list);
  }
  BRINDLE_ASSIGN_OR_RETURN(auto blocks, client.list(model::kIpamBlockPrefix));
  for (const auto& kv : blocks.items) {
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
