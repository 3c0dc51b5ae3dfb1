// Calico's validator table (libcalico-go/lib/validator/v3/validator_test.go) as data in
// calico_validation.yaml, run through what `brindlectl create` does with a file: decode (parse,
// defaults, validation) and ResourceStore::write into a fresh embedded store per case.
//
// A case Calico accepts must be stored and read back as written; a case Calico refuses must fail
// with an error naming `field`, and leave the store as it was. A case marked `known_gap` is one
// Brindle does not agree with yet: it must still disagree, so fixing it forces the marker out.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "datastore/local/local_store.h"
#include "model/codec.h"
#include "model/yaml_json.h"
#include "resources/resource_store.h"
#include "testutil/temp_dir.h"

namespace brindle::model {
namespace {

struct Case {
  std::string name;
  std::string from;      // Calico's Entry description
  Json resource;         // kind, metadata, spec (apiVersion added)
  bool valid = false;    // what Calico says
  std::string field;     // for refused cases: what the error must name
  std::string knownGap;  // why Brindle still disagrees, if it does
};

// gtest prints a failing case by its name, not its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// "@repeat(x,253)" stands for 253 'x's: Calico's length limits need long values.
void expandRepeats(Json& v) {
  static const std::regex repeat(R"(^@repeat\((.),([0-9]+)\)$)");
  if (v.is_string()) {
    std::smatch m;
    const std::string s = v.get<std::string>();
    if (std::regex_match(s, m, repeat)) v = std::string(std::stoul(m[2]), m[1].str()[0]);
  } else if (v.is_structured()) {
    for (auto& item : v) expandRepeats(item);
    if (v.is_object()) {
      // Keys too (a label key at its length limit).
      Json renamed = Json::object();
      for (auto& [k, item] : v.items()) {
        Json key = k;
        expandRepeats(key);
        renamed[key.get<std::string>()] = item;
      }
      v = std::move(renamed);
    }
  }
}

std::vector<Case> loadCases() {
  std::ifstream in(BRINDLE_CALICO_TABLE);
  std::stringstream text;
  text << in.rdbuf();
  auto docs = parseDocuments(text.str(), "calico_validation.yaml");
  if (!docs || docs->size() != 1 || !docs->front().is_array()) {
    ADD_FAILURE() << "cannot read " << BRINDLE_CALICO_TABLE << ": " << docs.message();
    return {};
  }
  std::vector<Case> cases;
  for (const Json& c : docs->front()) {
    Case out;
    out.name = c.value("name", "");
    out.from = c.value("from", "");
    out.resource = Json::object();
    out.resource["apiVersion"] = kApiVersionV3;
    const Json resource = c.value("resource", Json::object());
    for (const auto& [k, v] : resource.items()) out.resource[k] = v;
    expandRepeats(out.resource);
    out.valid = c.value("valid", false);
    out.field = c.value("field", "");
    out.knownGap = c.value("known_gap", "");
    cases.push_back(std::move(out));
  }
  return cases;
}

const std::vector<Case>& allCases() {
  static const std::vector<Case> cases = loadCases();
  return cases;
}

TEST(CalicoValidationTable, IsWellFormed) {
  std::set<std::string> names;
  ASSERT_GT(allCases().size(), 0u);
  for (const auto& c : allCases()) {
    EXPECT_TRUE(std::regex_match(c.name, std::regex("[a-z0-9_]+"))) << c.name;
    EXPECT_TRUE(names.insert(c.name).second) << "repeated case name " << c.name;
    EXPECT_FALSE(c.from.empty()) << c.name << ": no Calico entry named";
    if (!c.valid) {
      EXPECT_FALSE(c.field.empty()) << c.name << ": a refused case names its field";
    }
  }
}

// One embedded store for the table; every case leaves it empty again, so each starts as on a
// fresh store (opening one per case costs more than the whole table).
class CalicoValidation : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testutil::TempDir;
    auto c = datastore::openLocalStore(dir_->file("store.db"));
    ASSERT_TRUE(c.isOk()) << c.message();
    client_ = std::move(*c).release();
    store_ = new resources::ResourceStore(*client_, [] { return "2026-01-01T00:00:00Z"; });
  }
  static void TearDownTestSuite() {
    delete store_;
    delete client_;
    delete dir_;
  }
  static inline testutil::TempDir* dir_ = nullptr;
  static inline datastore::Client* client_ = nullptr;
  static inline resources::ResourceStore* store_ = nullptr;
};

// The first field of `written` (the case as the user wrote it) that `stored` lacks: defaults may
// add fields and respell values (Allow for allow, "true" for an unquoted true), never drop one.
std::string droppedField(const Json& written, const Json& stored, const std::string& path) {
  if (written.is_object()) {
    for (const auto& [k, v] : written.items()) {
      if (!stored.is_object() || !stored.contains(k)) return path + "." + k;
      if (auto d = droppedField(v, stored[k], path + "." + k); !d.empty()) return d;
    }
  } else if (written.is_array()) {
    // An empty list may be filled by a default (policy types).
    if (!stored.is_array() || (!written.empty() && stored.size() != written.size())) return path;
    for (size_t i = 0; i < written.size(); ++i) {
      const std::string p = path + "[" + std::to_string(i) + "]";
      if (auto d = droppedField(written[i], stored[i], p); !d.empty()) return d;
    }
  }
  return "";
}

// Server-set metadata that create adds to what was written.
Json withoutServerFields(Json metadata) {
  for (const char* f : {"uid", "creationTimestamp", "resourceVersion"}) metadata.erase(f);
  return metadata;
}

TEST_P(CalicoValidation, AgreesWithCalico) {
  const Case& c = GetParam();
  SCOPED_TRACE("Calico: " + c.from);
  ASSERT_NE(store_, nullptr);
  resources::ResourceStore& store = *store_;
  const int64_t before = *client_->currentRevision();

  // The text brindlectl would read from a file, and its create.
  const std::string text = writeYaml(c.resource);
  std::string error;
  std::vector<Resource> written;
  auto decoded = decodeResources(text, c.name + ".yaml");
  if (!decoded) {
    error = decoded.message();
  } else {
    auto outcome = store.write(resources::WriteMode::kCreate, decoded->resources);
    if (!outcome) error = outcome.message();
    if (outcome) written = decoded->resources;
  }
  const bool accepted = error.empty();

  // Leave the store empty for the next case.
  struct Cleanup {
    resources::ResourceStore& store;
    std::vector<Resource>& written;
    ~Cleanup() {
      if (!written.empty()) {
        EXPECT_TRUE(store.write(resources::WriteMode::kDelete, written).isOk());
      }
    }
  } cleanup{store, written};

  if (!c.knownGap.empty()) {
    // Refused for another reason than the field Calico names is a gap too.
    const bool agrees =
        accepted == c.valid && (accepted || error.find(c.field) != std::string::npos);
    EXPECT_FALSE(agrees) << "known gap \"" << c.knownGap << "\" is fixed: remove the marker\n"
                         << text;
    return;
  }
  if (c.valid) {
    ASSERT_TRUE(accepted) << "Calico accepts this, Brindle refuses: " << error << "\n" << text;
    for (const auto& r : written) {
      auto got = store.get(r.kind, r.ns(), r.name());
      ASSERT_TRUE(got.isOk()) << got.message();
      EXPECT_EQ(got->spec, r.spec) << "spec read back differs";
      EXPECT_EQ(withoutServerFields(got->metadata), withoutServerFields(r.metadata))
          << "metadata read back differs";
      EXPECT_EQ(droppedField(c.resource, got->toJson(), ""), "") << "a field written is lost";
    }
  } else {
    EXPECT_FALSE(accepted) << "Calico refuses this (" << c.field << "), Brindle accepts it\n"
                           << text;
    if (!accepted) {
      EXPECT_NE(error.find(c.field), std::string::npos)
          << "error does not name " << c.field << ": " << error;
    }
    EXPECT_EQ(*client_->currentRevision(), before) << "a refused create changed the store";
  }
}

std::string caseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Table, CalicoValidation, ::testing::ValuesIn(allCases()), caseName);

}  // namespace
}  // namespace brindle::model
