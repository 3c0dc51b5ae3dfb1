// ResourceStore over the real embedded store: create/replace/apply/delete semantics, batches
// that are all or nothing, resourceVersion guards and IPPool overlap.
#include "resources/resource_store.h"

#include <gtest/gtest.h>

#include "datastore/local/local_store.h"
#include "testutil/temp_dir.h"

namespace brindle::resources {
namespace {

using model::Json;
using model::Kind;
using model::Resource;

Resource pool(const std::string& name, const std::string& cidr) {
  Resource r;
  r.kind = Kind::kIPPool;
  r.metadata["name"] = name;
  r.spec["cidr"] = cidr;
  r.spec["blockSize"] = 26;
  r.spec["ipipMode"] = "Never";
  r.spec["vxlanMode"] = "Never";
  r.spec["natOutgoing"] = false;
  r.spec["nodeSelector"] = "all()";
  return r;
}

Resource profile(const std::string& name) {
  Resource r;
  r.kind = Kind::kProfile;
  r.metadata["name"] = name;
  return r;
}

class ResourceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = datastore::openLocalStore(dir_.file("store.db"));
    ASSERT_TRUE(c.isOk()) << c.message();
    client_ = std::move(*c);
    store_ = std::make_unique<ResourceStore>(*client_, [] { return "2026-01-01T00:00:00Z"; });
  }
  int64_t revision() { return *client_->currentRevision(); }

  testutil::TempDir dir_;
  datastore::ClientPtr client_;
  std::unique_ptr<ResourceStore> store_;
};

TEST_F(ResourceStoreTest, CreateSetsIdentityAndVersion) {
  auto out = store_->write(WriteMode::kCreate, {profile("p1")});
  ASSERT_TRUE(out.isOk()) << out.message();
  auto got = store_->get(Kind::kProfile, "", "p1");
  ASSERT_TRUE(got.isOk());
  EXPECT_EQ(got->metadata["creationTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(got->metadata["uid"].get<std::string>().size(), 36u);
  EXPECT_EQ(got->resourceVersion(), std::to_string(revision()));
  EXPECT_EQ(out->written.front().resourceVersion(), got->resourceVersion());
}

TEST_F(ResourceStoreTest, CreateOfExistingFailsUnlessSkipped) {
  ASSERT_TRUE(store_->write(WriteMode::kCreate, {profile("p1")}).isOk());
  auto again = store_->write(WriteMode::kCreate, {profile("p2"), profile("p1")});
  ASSERT_FALSE(again.isOk());
  EXPECT_EQ(again.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.message(), "resource already exists: Profile(p1)");
  // All or nothing: p2 was not created either.
  EXPECT_EQ(store_->get(Kind::kProfile, "", "p2").code(), ErrorCode::kNotFound);
  auto skipped = store_->write(WriteMode::kCreate, {profile("p2"), profile("p1")},
                               {.skipExists = true});
  ASSERT_TRUE(skipped.isOk());
  EXPECT_EQ(skipped->written.size(), 1u);
  EXPECT_EQ(skipped->skipped.size(), 1u);
}

TEST_F(ResourceStoreTest, ReplaceKeepsUidAndChecksVersion) {
  ASSERT_TRUE(store_->write(WriteMode::kCreate, {profile("p1")}).isOk());
  auto before = *store_->get(Kind::kProfile, "", "p1");
  Resource changed = profile("p1");
  changed.spec["labelsToApply"] = Json{{"a", "b"}};
  ASSERT_TRUE(store_->write(WriteMode::kReplace, {changed}).isOk());
  auto after = *store_->get(Kind::kProfile, "", "p1");
  EXPECT_EQ(after.metadata["uid"], before.metadata["uid"]);
  EXPECT_EQ(after.spec["labelsToApply"]["a"], "b");
  // A replace carrying the old version is a conflict and changes nothing.
  Resource stale = changed;
  stale.metadata["resourceVersion"] = before.resourceVersion();
  stale.spec["labelsToApply"]["a"] = "c";
  auto conflict = store_->write(WriteMode::kReplace, {stale});
  ASSERT_FALSE(conflict.isOk());
  EXPECT_EQ(conflict.code(), ErrorCode::kConflict);
  EXPECT_EQ(store_->get(Kind::kProfile, "", "p1")->spec["labelsToApply"]["a"], "b");
  // Replace of a missing resource fails.
  EXPECT_EQ(store_->write(WriteMode::kReplace, {profile("nope")}).code(), ErrorCode::kNotFound);
}

TEST_F(ResourceStoreTest, ApplyCreatesOrUpdates) {
  ASSERT_TRUE(store_->write(WriteMode::kApply, {profile("p1")}).isOk());
  const int64_t r1 = revision();
  ASSERT_TRUE(store_->write(WriteMode::kApply, {profile("p1"), profile("p2")}).isOk());
  EXPECT_EQ(revision(), r1 + 1) << "one batch is one transaction";
  EXPECT_EQ(store_->list(Kind::kProfile)->size(), 2u);
}

TEST_F(ResourceStoreTest, DeleteIsAllOrNothing) {
  ASSERT_TRUE(store_->write(WriteMode::kCreate, {profile("p1")}).isOk());
  auto res = store_->write(WriteMode::kDelete, {profile("p1"), profile("missing")});
  ASSERT_FALSE(res.isOk());
  EXPECT_EQ(res.message(), "resource does not exist: Profile(missing)");
  EXPECT_TRUE(store_->get(Kind::kProfile, "", "p1").isOk());
  auto skip = store_->write(WriteMode::kDelete, {profile("p1"), profile("missing")},
                            {.skipNotExists = true});
  ASSERT_TRUE(skip.isOk()) << skip.message();
  EXPECT_EQ(store_->get(Kind::kProfile, "", "p1").code(), ErrorCode::kNotFound);
}

TEST_F(ResourceStoreTest, OverlappingPoolsAreRejected) {
  ASSERT_TRUE(store_->write(WriteMode::kCreate, {pool("a", "10.1.0.0/16")}).isOk());
  auto overlap = store_->write(WriteMode::kCreate, {pool("b", "10.1.2.0/24")});
  ASSERT_FALSE(overlap.isOk());
  EXPECT_EQ(overlap.code(), ErrorCode::kInvalid);
  EXPECT_NE(overlap.message().find("10.1.0.0/16"), std::string::npos) << overlap.message();
  // Within one batch too.
  EXPECT_FALSE(
      store_->write(WriteMode::kCreate, {pool("c", "10.9.0.0/16"), pool("d", "10.9.0.0/17")})
          .isOk());
  // Re-applying the same pool is not an overlap with itself.
  EXPECT_TRUE(store_->write(WriteMode::kApply, {pool("a", "10.1.0.0/16")}).isOk());
  EXPECT_TRUE(store_->write(WriteMode::kCreate, {pool("e", "10.2.0.0/16")}).isOk());
}

TEST_F(ResourceStoreTest, NamespacedKeysFollowCalicosLayout) {
  Resource wep;
  wep.kind = Kind::kWorkloadEndpoint;
  wep.metadata["name"] = "n1-k8s-pod-eth0";
  wep.metadata["namespace"] = "ns1";
  ASSERT_TRUE(store_->write(WriteMode::kCreate, {wep}).isOk());
  auto kv = client_->get(
      "/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/n1-k8s-pod-eth0");
  ASSERT_TRUE(kv.isOk());
  auto json = Json::parse(kv->value);
  EXPECT_EQ(json["apiVersion"], "projectcalico.org/v3");
  EXPECT_EQ(json["kind"], "WorkloadEndpoint");
  EXPECT_FALSE(json["metadata"].contains("resourceVersion"));
  EXPECT_EQ(store_->list(Kind::kWorkloadEndpoint, "ns1")->size(), 1u);
  EXPECT_EQ(store_->list(Kind::kWorkloadEndpoint, "ns2")->size(), 0u);
  EXPECT_EQ(store_->list(Kind::kWorkloadEndpoint)->size(), 1u);
}

}  // namespace
}  // namespace brindle::resources
