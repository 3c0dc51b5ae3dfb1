// node diags' datastore file: settings shown, secrets never (the etcd password, key contents).
#include <gtest/gtest.h>

#include "node/diags.h"

namespace brindle::node {
namespace {

TEST(DiagsDatastore, EtcdSecretsRedacted) {
  config::DatastoreConfig c;
  c.type = config::DatastoreType::kEtcdV3;
  c.source = "/etc/brindle/brindlectl.cfg";
  c.etcdEndpoints = {"https://10.0.0.1:2379", "https://10.0.0.2:2379"};
  c.etcdUsername = "root";
  c.etcdPassword = "hunter2";
  c.etcdKeyFile = "/etc/brindle/etcd-key.pem";
  c.etcdCACertFile = "/etc/brindle/ca.pem";
  const std::string text = redactedDatastoreConfig(c);
  EXPECT_EQ(text,
            "source: /etc/brindle/brindlectl.cfg\n"
            "datastoreType: etcdv3\n"
            "etcdEndpoints: https://10.0.0.1:2379 https://10.0.0.2:2379\n"
            "etcdUsername: root\n"
            "etcdPassword: <redacted>\n"
            "etcdKeyFile: /etc/brindle/etcd-key.pem (contents not included)\n"
            "etcdCACertFile: /etc/brindle/ca.pem (contents not included)\n");
}

TEST(DiagsDatastore, LocalStore) {
  config::DatastoreConfig c;
  c.source = "environment";
  c.storePath = "/var/lib/brindle/store.db";
  EXPECT_EQ(redactedDatastoreConfig(c),
            "source: environment\ndatastoreType: local\nstorePath: /var/lib/brindle/store.db\n");
}

}  // namespace
}  // namespace brindle::node
