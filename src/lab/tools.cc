// Finding the lab's programs: next to our own executable first (an installed set or one build
// tree), then PATH; the examples from the source tree this binary was built from, else the
// installed copy under share/brindle/examples.
#include "lab/tools.h"

#include <unistd.h>

#include <filesystem>
#include <vector>

namespace brindle::lab {
namespace {

namespace fs = std::filesystem;

bool executable(const fs::path& p) {
  return ::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p);
}

Result<std::string> find(const fs::path& self, const std::string& name,
                         const std::vector<fs::path>& extra = {}) {
  std::vector<fs::path> candidates = {self / name, self.parent_path() / name / name};
  candidates.insert(candidates.end(), extra.begin(), extra.end());
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    for (size_t start = 0; start <= p.size();) {
      size_t end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      if (end > start) candidates.push_back(fs::path(p.substr(start, end - start)) / name);
      start = end + 1;
    }
  }
  for (const auto& c : candidates) {
    if (executable(c)) return fs::weakly_canonical(c).string();
  }
  return makeError(ErrorCode::kNotFound, name + " not found beside " + self.string() +
                                             " nor on PATH (build it or install Brindle)");
}

}  // namespace

Result<Tools> findTools() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec).parent_path();
  Tools t;
  for (auto [field, name, extra] :
       {std::tuple{&t.brindlectl, "brindlectl", std::vector<fs::path>{}},
        std::tuple{&t.cni, "brindle-cni", std::vector<fs::path>{"/opt/cni/bin/brindle-cni"}}}) {
    auto found = find(self, name, extra);
    if (!found) return found.error();
    *field = *found;
  }
  for (const fs::path& dir :
       {fs::path(BRINDLE_SOURCE_DIR) / "examples", self.parent_path() / "share/brindle/examples"}) {
    if (fs::exists(dir / "seed-lab/endpoints.yaml")) {
      t.examples = dir.string();
      break;
    }
  }
  return t;
}

}  // namespace brindle::lab
