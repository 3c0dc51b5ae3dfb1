// -f argument reading.
#include "cli/input.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "model/yaml_json.h"

namespace brindle::cli {
namespace {

namespace fs = std::filesystem;

// Reads at most ParseLimits' maxBytes: a huge file fails before it fills memory.
Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(ErrorCode::kInvalid, "cannot read file " + path);
  return model::readLimited(in, path);
}

Status addDecoded(model::DecodedResources& all, std::string_view text, const std::string& name) {
  BRINDLE_ASSIGN_OR_RETURN(auto decoded, model::decodeResources(text, name));
  for (auto& r : decoded.resources) all.resources.push_back(std::move(r));
  for (auto& w : decoded.warnings) all.warnings.push_back(std::move(w));
  for (auto& k : decoded.inputKinds) all.inputKinds.push_back(std::move(k));
  return Status::ok();
}

}  // namespace

Result<model::DecodedResources> readResourceFiles(const std::vector<std::string>& paths,
                                                  std::istream& stdinStream) {
  model::DecodedResources all;
  for (const auto& path : paths) {
    if (path == "-") {
      BRINDLE_ASSIGN_OR_RETURN(auto text, model::readLimited(stdinStream, "stdin"));
      if (Status s = addDecoded(all, text, "stdin"); !s) return s.error();
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> files;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        const std::string ext = entry.path().extension().string();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
          files.push_back(entry.path().string());
        }
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) {
        return makeError(ErrorCode::kInvalid, "directory " + path + " holds no resource files");
      }
      for (const auto& file : files) {
        BRINDLE_ASSIGN_OR_RETURN(auto text, readFile(file));
        if (Status s = addDecoded(all, text, file); !s) return s.error();
      }
      continue;
    }
    BRINDLE_ASSIGN_OR_RETURN(auto text, readFile(path));
    if (Status s = addDecoded(all, text, path); !s) return s.error();
  }
  // The same resource twice across files would make the batch ambiguous.
  std::vector<std::string> keys;
  for (const auto& r : all.resources) keys.push_back(r.key());
  std::sort(keys.begin(), keys.end());
  if (auto dup = std::adjacent_find(keys.begin(), keys.end()); dup != keys.end()) {
    return makeError(ErrorCode::kInvalid, "the same resource is given twice: " + *dup);
  }
  return all;
}

}  // namespace brindle::cli
