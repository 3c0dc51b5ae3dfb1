// etcd with TLS (client certificates) and auth: the happy path, and that a wrong password, a
// wrong CA, a missing client certificate or missing credentials each give an error naming it.
#include <gtest/gtest.h>

#include <string>

#include "datastore/etcd/etcd_client.h"
#include "testutil/etcd_server.h"
#include "testutil/temp_dir.h"

namespace brindle::datastore::etcd {
namespace {

using namespace std::chrono_literals;

class EtcdSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ =
        new testutil::EtcdCluster(1, {.tls = true, .auth = true, .netns = "", .host = "127.0.0.1"});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // Options that work: felix's password, the right CA, a client certificate.
  EtcdOptions good() const {
    EtcdOptions o;
    o.endpoints = server_->endpoints();
    o.username = "felix";
    o.password = "felixpw";
    o.caFile = server_->caFile();
    o.certFile = server_->certFile();
    o.keyFile = server_->keyFile();
    o.requestTimeout = 4s;
    o.dialTimeout = 2s;
    return o;
  }

  static Error firstError(const EtcdOptions& options) {
    auto client = openEtcdStore(options);
    if (!client.isOk()) return client.error();
    auto r = (*client)->get("/calico/probe");
    if (r.isOk() || r.code() == ErrorCode::kNotFound) return makeError(ErrorCode::kInternal, "ok");
    return r.error();
  }

  static testutil::EtcdCluster* server_;
};
testutil::EtcdCluster* EtcdSecurityTest::server_ = nullptr;

TEST_F(EtcdSecurityTest, TlsAndAuthWork) {
  auto client = openEtcdClient(good());
  ASSERT_TRUE(client.isOk()) << client.message();
  auto created = (*client)->create("/calico/resources/v3/x", "v");
  ASSERT_TRUE(created.isOk()) << created.message();
  auto kv = (*client)->get("/calico/resources/v3/x");
  ASSERT_TRUE(kv.isOk()) << kv.message();
  EXPECT_EQ(kv->value, "v");
  auto list = (*client)->list("/calico/");
  ASSERT_TRUE(list.isOk()) << list.message();
  EXPECT_EQ(list->items.size(), 1u);
  // felix's role covers /calico/ only.
  auto outside = (*client)->create("/elsewhere", "v");
  ASSERT_FALSE(outside.isOk());
  EXPECT_EQ(outside.code(), ErrorCode::kInvalid);
  EXPECT_NE(outside.message().find("permission denied"), std::string::npos) << outside.message();
  // Watches carry the token too.
  auto w = (*client)->watch("/calico/", *created);
  ASSERT_TRUE(w.isOk());
  ASSERT_TRUE((*client)->update("/calico/resources/v3/x", "v2", 0).isOk());
  auto events = (*w)->next(3s);
  ASSERT_TRUE(events.isOk()) << events.message();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].prevValue, "v");
}

TEST_F(EtcdSecurityTest, WrongPasswordSaysAuthenticationFailed) {
  EtcdOptions o = good();
  o.password = "wrong";
  Error e = firstError(o);
  EXPECT_EQ(e.code, ErrorCode::kInvalid) << e.message;
  EXPECT_NE(e.message.find("authentication failed for user 'felix'"), std::string::npos)
      << e.message;
  EXPECT_NE(e.message.find("wrong username or password"), std::string::npos) << e.message;
}

TEST_F(EtcdSecurityTest, MissingCredentialsSayAuthenticationRequired) {
  EtcdOptions o = good();
  o.username.clear();
  o.password.clear();
  Error e = firstError(o);
  EXPECT_EQ(e.code, ErrorCode::kInvalid) << e.message;
  EXPECT_NE(e.message.find("requires authentication"), std::string::npos) << e.message;
}

TEST_F(EtcdSecurityTest, WrongCaSaysCertificateNotTrusted) {
  testutil::TempDir other;
  testutil::EtcdCluster::runOrThrow(std::string(BRINDLE_ETCD_LOCAL) + " certs " +
                                    other.file("certs"));
  EtcdOptions o = good();
  o.caFile = other.file("certs/ca.pem");
  auto t0 = std::chrono::steady_clock::now();
  Error e = firstError(o);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(e.code, ErrorCode::kUnavailable) << e.message;
  EXPECT_NE(e.message.find("not trusted by the CA file " + o.caFile), std::string::npos)
      << e.message;
  EXPECT_NE(e.message.find(server_->endpoint(0)), std::string::npos) << e.message;
}

TEST_F(EtcdSecurityTest, MissingClientCertSaysCertificateRequired) {
  EtcdOptions o = good();
  o.certFile.clear();
  o.keyFile.clear();
  Error e = firstError(o);
  EXPECT_EQ(e.code, ErrorCode::kUnavailable) << e.message;
  EXPECT_NE(e.message.find("client certificate"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find(server_->endpoint(0)), std::string::npos) << e.message;
}

TEST_F(EtcdSecurityTest, BadOptionsAreRejectedUpFront) {
  EtcdOptions o = good();
  o.caFile = "/nonexistent/ca.pem";
  auto r = openEtcdStore(o);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.code(), ErrorCode::kInvalid);
  EXPECT_NE(r.message().find("/nonexistent/ca.pem"), std::string::npos) << r.message();

  o = good();
  o.keyFile.clear();
  EXPECT_EQ(openEtcdStore(o).code(), ErrorCode::kInvalid);

  o = good();
  o.endpoints = {"http://127.0.0.1:1"};  // certificates with http://
  EXPECT_EQ(openEtcdStore(o).code(), ErrorCode::kInvalid);

  o = good();
  o.endpoints = {"ftp://127.0.0.1:1"};
  EXPECT_EQ(openEtcdStore(o).code(), ErrorCode::kInvalid);

  EXPECT_EQ(openEtcdStore(EtcdOptions{}).code(), ErrorCode::kInvalid);
}

// etcd's simple tokens live in the server's memory: after a restart every token is invalid, and
// the client must authenticate again by itself.
TEST_F(EtcdSecurityTest, TokenIsRefreshedWhenEtcdForgetsIt) {
  auto client = openEtcdClient(good());
  ASSERT_TRUE(client.isOk());
  ASSERT_TRUE((*client)->create("/calico/token/a", "1").isOk());
  server_->kill(0);
  server_->restart(0);
  // A read first: a write on the connection the restart broke could be refused as ambiguous.
  EXPECT_EQ((*client)->get("/calico/token/b").code(), ErrorCode::kNotFound);
  auto r = (*client)->create("/calico/token/b", "1");
  ASSERT_TRUE(r.isOk()) << r.message();
  auto w = (*client)->watch("/calico/token/", *r - 1);
  ASSERT_TRUE(w.isOk());
  auto events = (*w)->next(3s);
  ASSERT_TRUE(events.isOk()) << events.message();
  EXPECT_EQ(events->size(), 1u);
}

}  // namespace
}  // namespace brindle::datastore::etcd
