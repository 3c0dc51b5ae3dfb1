// The one libnl error mapping (table), and route sockets opened in a namespace, whose kernel
// errors come back through it.
#include "os/netlink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "dataplane/netns_fixture.h"

namespace brindle::os {
namespace {

TEST(OsNetlinkTest, LibnlErrorsMapToOurCodes) {
  const std::pair<int, ErrorCode> table[] = {
      {NLE_EXIST, ErrorCode::kAlreadyExists},   {NLE_NODEV, ErrorCode::kNotFound},
      {NLE_OBJ_NOTFOUND, ErrorCode::kNotFound}, {NLE_AGAIN, ErrorCode::kUnavailable},
      {NLE_BUSY, ErrorCode::kUnavailable},      {NLE_INTR, ErrorCode::kUnavailable},
      {NLE_DUMP_INTR, ErrorCode::kUnavailable}, {NLE_PERM, ErrorCode::kInternal},
      {NLE_INVAL, ErrorCode::kInternal},        {NLE_NOMEM, ErrorCode::kInternal},
  };
  for (const auto& [nle, code] : table) {
    Error e = nlError(-nle, "add route");
    EXPECT_EQ(e.code, code) << nl_geterror(-nle);
    EXPECT_EQ(e.message, std::string("add route: ") + nl_geterror(-nle));
  }
}

TEST(OsNetlinkTest, SocketInAMissingNamespaceIsNotFound) {
  EXPECT_EQ(openRouteSocket("brindle-no-such-netns").code(), ErrorCode::kNotFound);
}

TEST(OsNetlinkTest, SocketTalksToItsNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  dataplane::testing::TestNetns ns;
  auto sock = openRouteSocket(ns.name());
  ASSERT_TRUE(sock) << sock.message();
  NlCache links;
  ASSERT_GE(rtnl_link_alloc_cache(sock->get(), AF_UNSPEC, links.out()), 0);
  std::vector<std::string> names;
  for (nl_object* o = nl_cache_get_first(links.get()); o; o = nl_cache_get_next(o)) {
    names.push_back(rtnl_link_get_name(reinterpret_cast<rtnl_link*>(o)));
  }
  EXPECT_EQ(names, std::vector<std::string>{"lo"});
  // A real kernel error through the mapping.
  NlLink link;
  int err = rtnl_link_get_kernel(sock->get(), 0, "nosuchlink", link.out());
  ASSERT_LT(err, 0);
  EXPECT_EQ(nlError(err, "link nosuchlink").code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace brindle::os
