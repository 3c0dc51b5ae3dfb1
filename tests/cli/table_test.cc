// The table printer lays out columns exactly as calicoctl (tabwriter, padding 3).
#include "cli/table.h"

#include <gtest/gtest.h>

#include <sstream>

namespace brindle::cli {
namespace {

TEST(TableTest, PadsColumnsByThreeAndTrimsTrailingBlanks) {
  std::ostringstream out;
  printTable(out, {"NODE", "ORCHESTRATOR", "NAME", "NATS", "PROFILES"},
             {{"slave1", "k8s", "slave1-frontend1", "", ""}, {"slave2", "k8s", "db", "", "p"}});
  EXPECT_EQ(out.str(),
            "NODE     ORCHESTRATOR   NAME               NATS   PROFILES\n"
            "slave1   k8s            slave1-frontend1\n"
            "slave2   k8s            db                        p\n");
}

TEST(TableTest, HeaderOnlyWhenEmpty) {
  std::ostringstream out;
  printTable(out, {"SCOPE", "PEERIP", "NODE", "ASN"}, {});
  EXPECT_EQ(out.str(), "SCOPE   PEERIP   NODE   ASN\n");
}

}  // namespace
}  // namespace brindle::cli
