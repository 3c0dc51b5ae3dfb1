// Datastore configuration: Calico's file forms, the environment, and their precedence.
#include "config/datastore_config.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace brindle::config {
namespace {

TEST(DatastoreConfigTest, ReadsTheSeedsV1File) {
  const std::string text = R"(apiVersion: v1
kind: calicoApiConfig
metadata:
spec:
  datastoreType: "etcdv2"
  etcdEndpoints: "http://192.168.40.10:2379"
)";
  auto cfg = parseConfigFile(text, "calicoctl.cfg");
  ASSERT_TRUE(cfg.isOk()) << cfg.message();
  EXPECT_EQ(cfg->type, DatastoreType::kEtcdV3);
  ASSERT_EQ(cfg->etcdEndpoints.size(), 1u);
  EXPECT_EQ(cfg->etcdEndpoints[0], "http://192.168.40.10:2379");
  ASSERT_EQ(cfg->notes.size(), 1u);
  EXPECT_NE(cfg->notes[0].find("etcd v3 API"), std::string::npos);
}

TEST(DatastoreConfigTest, ReadsTheV3FormWithTlsAndSeveralEndpoints) {
  const std::string text = R"(apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
metadata:
spec:
  datastoreType: etcdv3
  etcdEndpoints: "https://10.0.0.1:2379, https://10.0.0.2:2379"
  etcdUsername: felix
  etcdPassword: pw
  etcdKeyFile: /k.pem
  etcdCertFile: /c.pem
  etcdCACertFile: /ca.pem
)";
  auto cfg = parseConfigFile(text, "f");
  ASSERT_TRUE(cfg.isOk()) << cfg.message();
  EXPECT_EQ(cfg->etcdEndpoints, (std::vector<std::string>{"https://10.0.0.1:2379",
                                                          "https://10.0.0.2:2379"}));
  EXPECT_EQ(cfg->etcdUsername, "felix");
  EXPECT_EQ(cfg->etcdPassword, "pw");
  EXPECT_EQ(cfg->etcdKeyFile, "/k.pem");
  EXPECT_EQ(cfg->etcdCertFile, "/c.pem");
  EXPECT_EQ(cfg->etcdCACertFile, "/ca.pem");
}

TEST(DatastoreConfigTest, LocalStoreWithPath) {
  auto cfg = parseConfigFile(
      "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: local\n"
      "  storePath: /tmp/s.db\n",
      "f");
  ASSERT_TRUE(cfg.isOk()) << cfg.message();
  EXPECT_EQ(cfg->type, DatastoreType::kLocal);
  EXPECT_EQ(cfg->storePath, "/tmp/s.db");
}

TEST(DatastoreConfigTest, RejectsBadFilesNamingTheField) {
  EXPECT_EQ(parseConfigFile("kind: Pod\n", "f").message(),
            "f: kind: expected calicoApiConfig (v1) or CalicoAPIConfig (v3), got \"Pod\"");
  EXPECT_EQ(parseConfigFile("kind: calicoApiConfig\nspec:\n  datastoreType: kubernetes\n", "f")
                .message(),
            "f: spec.datastoreType: unsupported datastore type \"kubernetes\" (expected local or "
            "etcdv3)");
  EXPECT_EQ(parseConfigFile("kind: calicoApiConfig\nspec:\n  etcdEndpoint: x\n", "f").message(),
            "f: spec.etcdEndpoint: unknown field");
  EXPECT_FALSE(parseConfigFile("kind: [", "f").isOk());
}

TEST(DatastoreConfigTest, EnvironmentVariables) {
  auto cfg = configFromEnvironment({{"DATASTORE_TYPE", "etcdv3"},
                                    {"ETCD_ENDPOINTS", "http://127.0.0.1:23790"},
                                    {"ETCD_USERNAME", "u"},
                                    {"ETCD_CA_CERT_FILE", "/ca"}});
  ASSERT_TRUE(cfg.isOk());
  EXPECT_EQ(cfg->type, DatastoreType::kEtcdV3);
  EXPECT_EQ(cfg->etcdEndpoints[0], "http://127.0.0.1:23790");
  EXPECT_EQ(cfg->etcdUsername, "u");
  EXPECT_EQ(cfg->etcdCACertFile, "/ca");

  auto defaults = configFromEnvironment({});
  ASSERT_TRUE(defaults.isOk());
  EXPECT_EQ(defaults->type, DatastoreType::kLocal);
  EXPECT_EQ(defaults->storePath, kDefaultStorePath);

  auto etcdDefault = configFromEnvironment({{"DATASTORE_TYPE", "etcdv3"}});
  EXPECT_EQ(etcdDefault->etcdEndpoints[0], "http://127.0.0.1:2379");

  auto local = configFromEnvironment({{"BRINDLE_STORE_PATH", "/tmp/x.db"}});
  EXPECT_EQ(local->storePath, "/tmp/x.db");
  EXPECT_FALSE(configFromEnvironment({{"DATASTORE_TYPE", "zookeeper"}}).isOk());
}

TEST(DatastoreConfigTest, PrecedenceExplicitFileThenDefaultFileThenEnvironment) {
  char dir[] = "/tmp/brindle-cfg-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string file = std::string(dir) + "/a.cfg";
  const std::string defaultFile = std::string(dir) + "/default.cfg";
  std::ofstream(file) << "kind: CalicoAPIConfig\nspec:\n  storePath: /from/explicit\n";
  const std::map<std::string, std::string> env = {{"BRINDLE_STORE_PATH", "/from/env"}};

  // No default file: the environment.
  EXPECT_EQ(loadDatastoreConfig("", env, defaultFile)->storePath, "/from/env");
  // A default file wins over the environment (calicoctl's rule).
  std::ofstream(defaultFile) << "kind: CalicoAPIConfig\nspec:\n  storePath: /from/default\n";
  EXPECT_EQ(loadDatastoreConfig("", env, defaultFile)->storePath, "/from/default");
  // --config wins over both.
  EXPECT_EQ(loadDatastoreConfig(file, env, defaultFile)->storePath, "/from/explicit");
  // A missing --config file is an error, not a silent fallback.
  auto missing = loadDatastoreConfig(std::string(dir) + "/nope.cfg", env, defaultFile);
  EXPECT_FALSE(missing.isOk());
  EXPECT_NE(missing.message().find("nope.cfg cannot be read"), std::string::npos);

  std::remove(file.c_str());
  std::remove(defaultFile.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace brindle::config
