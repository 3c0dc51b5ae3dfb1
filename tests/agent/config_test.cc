// AgentConfig loading: each source's format, the precedence between sources and the defaults.
#include "agent/config.h"

#include <gtest/gtest.h>

#include "dataplane/iptables_render.h"
#include "rules/endpoints.h"
#include "testutil/temp_dir.h"

namespace brindle::agent {
namespace {

using std::chrono::milliseconds;

model::Resource felixConfig(const std::string& name, model::Json spec) {
  model::Resource r;
  r.kind = model::Kind::kFelixConfiguration;
  r.metadata["name"] = name;
  r.spec = std::move(spec);
  return r;
}

TEST(AgentConfigTest, DefaultsAreCalicos) {
  auto c = buildAgentConfig({});
  ASSERT_TRUE(c.isOk());
  EXPECT_EQ(c->iptablesRefreshInterval, milliseconds(30000));
  EXPECT_TRUE(c->chainInsertAtTop);
  EXPECT_EQ(c->defaultEndpointToHostAction, rules::EndpointToHostAction::kDrop);
  EXPECT_EQ(c->failsafeInbound.size(), 7u);
  EXPECT_EQ(c->healthHost, "127.0.0.1");
  EXPECT_EQ(c->routeProtocol, 80);
  auto r = c->rendererConfig();
  EXPECT_EQ(r.markAccept, 0x1000000u);
  EXPECT_EQ(r.markPass, 0x2000000u);
  EXPECT_EQ(r.markEndpoint, 0x4000000u);
  EXPECT_EQ(r.markMask, 0x7000000u);
  EXPECT_TRUE(rules::validateConfig(r).empty());
}

TEST(AgentConfigTest, Durations) {
  EXPECT_EQ(*parseDuration("30"), milliseconds(30000));
  EXPECT_EQ(*parseDuration("0.5"), milliseconds(500));
  EXPECT_EQ(*parseDuration("1m30s"), milliseconds(90000));
  EXPECT_EQ(*parseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*parseDuration("2h"), milliseconds(7200000));
  EXPECT_FALSE(parseDuration("").isOk());
  EXPECT_FALSE(parseDuration("10 parsecs").isOk());
  EXPECT_FALSE(parseDuration("-3").isOk());
}

TEST(AgentConfigTest, FileFormat) {
  auto layer = layerFromFile(
      "# agent settings\n[global]\n; Felix-style comment\n"
      "iptablesrefreshinterval = 5\nChainInsertMode=Append\nLogSeverityScreen = \"Debug\"\n"
      "FailsafeInboundHostPorts = tcp:22, udp:68\n\n",
      "agent.cfg");
  ASSERT_TRUE(layer.isOk()) << layer.message();
  auto c = buildAgentConfig({*layer});
  ASSERT_TRUE(c.isOk()) << c.message();
  EXPECT_EQ(c->iptablesRefreshInterval, milliseconds(5000));
  EXPECT_FALSE(c->chainInsertAtTop);
  EXPECT_EQ(c->logSeverityScreen, "Debug");
  ASSERT_EQ(c->failsafeInbound.size(), 2u);
  EXPECT_EQ(c->failsafeInbound[1], (rules::FailsafePort{"udp", 68}));
  EXPECT_EQ(c->sources["IptablesRefreshInterval"], "file agent.cfg");
}

TEST(AgentConfigTest, FileErrorsNameTheLine) {
  auto unknown = layerFromFile("IptablesRefreshIntervall = 5\n", "a.cfg");
  ASSERT_FALSE(unknown.isOk());
  EXPECT_NE(unknown.message().find("a.cfg:1"), std::string::npos);
  EXPECT_NE(unknown.message().find("IptablesRefreshIntervall"), std::string::npos);
  EXPECT_FALSE(layerFromFile("\n\nno equals sign\n", "a.cfg").isOk());
  auto bad = layerFromFile("ChainInsertMode = Sideways\n", "a.cfg");
  ASSERT_TRUE(bad.isOk());
  auto c = buildAgentConfig({*bad});
  ASSERT_FALSE(c.isOk());
  EXPECT_NE(c.message().find("ChainInsertMode"), std::string::npos);
}

TEST(AgentConfigTest, NetworkingBackendAsCalicoNodeTakesIt) {
  auto c = buildAgentConfig({});
  ASSERT_TRUE(c.isOk());
  EXPECT_EQ(c->networkingBackend, "bird");
  EXPECT_EQ(c->bgpRunDir, "/var/run/brindle");
  c = buildAgentConfig({layerFromEnvironment(
      {{"CALICO_NETWORKING_BACKEND", "none"}, {"FELIX_BGPRUNDIR", "/tmp/x"}})});
  ASSERT_TRUE(c.isOk()) << c.message();
  EXPECT_EQ(c->networkingBackend, "none");
  EXPECT_EQ(c->bgpRunDir, "/tmp/x");
  c = buildAgentConfig({layerFromEnvironment({{"CALICO_NETWORKING_BACKEND", "vxlan"}})});
  ASSERT_FALSE(c.isOk());
  EXPECT_NE(c.message().find("bird or none"), std::string::npos) << c.message();
}

TEST(AgentConfigTest, EnvironmentUsesFelixNames) {
  std::vector<std::string> notes;
  auto layer = layerFromEnvironment({{"FELIX_LOGSEVERITYSCREEN", "warning"},
                                     {"FELIX_IPV6SUPPORT", "false"},
                                     {"FELIX_IPTABLESMARKMASK", "0xe0000"},
                                     {"FELIX_NOSUCHTHING", "1"},
                                     {"PATH", "/bin"}},
                                    &notes);
  auto c = buildAgentConfig({layer});
  ASSERT_TRUE(c.isOk()) << c.message();
  EXPECT_EQ(c->logSeverityScreen, "Warning");
  EXPECT_FALSE(c->ipv6Support);
  auto r = c->rendererConfig();
  EXPECT_EQ(r.markAccept, 0x20000u);
  EXPECT_EQ(r.markPass, 0x40000u);
  EXPECT_EQ(r.markEndpoint, 0x80000u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("FELIX_NOSUCHTHING"), std::string::npos);
}

TEST(AgentConfigTest, MarkMaskNeedsThreeBits) {
  auto c = buildAgentConfig({{"env", {{"IptablesMarkMask", "0x3000000"}}}});
  EXPECT_FALSE(c.isOk());
}

TEST(AgentConfigTest, FelixConfigurationSpec) {
  auto layer = layerFromFelixConfiguration(felixConfig(
      "default", {{"iptablesRefreshInterval", "10s"},
                  {"defaultEndpointToHostAction", "Accept"},
                  {"failsafeInboundHostPorts", {{{"protocol", "TCP"}, {"port", 2222}}}},
                  {"failsafeOutboundHostPorts", model::Json::array()},
                  {"healthPort", 19099},
                  {"ipipEnabled", true}}));  // a Felix field the agent does not use: ignored
  auto c = buildAgentConfig({layer});
  ASSERT_TRUE(c.isOk()) << c.message();
  EXPECT_EQ(c->iptablesRefreshInterval, milliseconds(10000));
  EXPECT_EQ(c->defaultEndpointToHostAction, rules::EndpointToHostAction::kAccept);
  ASSERT_EQ(c->failsafeInbound.size(), 1u);
  EXPECT_EQ(c->failsafeInbound[0], (rules::FailsafePort{"tcp", 2222}));
  EXPECT_TRUE(c->failsafeOutbound.empty());
  EXPECT_EQ(c->healthPort, 19099);
}

// Felix reads failsafe port 0 like any other (0-65535) and renders it as it is.
TEST(AgentConfigTest, FailsafePortZeroAsFelix) {
  auto layer = layerFromFelixConfiguration(felixConfig(
      "default", {{"failsafeInboundHostPorts", {{{"protocol", "UDP"}, {"port", 0}}}},
                  {"failsafeOutboundHostPorts", {{{"protocol", "TCP"}, {"port", 0}}}}}));
  auto c = buildAgentConfig({layer});
  ASSERT_TRUE(c.isOk()) << c.message();
  ASSERT_EQ(c->failsafeInbound, (std::vector<rules::FailsafePort>{{"udp", 0}}));
  ASSERT_EQ(c->failsafeOutbound, (std::vector<rules::FailsafePort>{{"tcp", 0}}));
  const auto chains = rules::failsafeChains(c->rendererConfig(), dataplane::IpVersion::kV4);
  ASSERT_EQ(chains.size(), 2u);
  ASSERT_EQ(chains[0].rules.size(), 1u);
  EXPECT_EQ(dataplane::renderMatch(chains[0].rules[0].match), "-p udp -m multiport --dports 0");
  EXPECT_EQ(dataplane::renderAction(chains[0].rules[0].action), "-j ACCEPT");

  auto env = buildAgentConfig({{"env", {{"FailsafeInboundHostPorts", "tcp:0, udp:65535"}}}});
  ASSERT_TRUE(env.isOk()) << env.message();
  EXPECT_EQ(env->failsafeInbound, (std::vector<rules::FailsafePort>{{"tcp", 0}, {"udp", 65535}}));
  EXPECT_FALSE(buildAgentConfig({{"env", {{"FailsafeInboundHostPorts", "tcp:65536"}}}}).isOk());
  EXPECT_FALSE(buildAgentConfig({{"env", {{"FailsafeInboundHostPorts", "tcp:-1"}}}}).isOk());
}

// A failsafe port limited to a network opens to that network only (inbound: from it, outbound: to
// it), in the rules of its IP version only, as Felix; before, the network was dropped and the port
// opened to every source.
TEST(AgentConfigTest, FailsafePortWithANetworkOpensToThatNetworkOnly) {
  auto layer = layerFromFelixConfiguration(
      felixConfig("default", {{"failsafeInboundHostPorts",
                               {{{"protocol", "TCP"}, {"port", 22}, {"net", "10.0.0.0/8"}},
                                {{"protocol", "UDP"}, {"port", 53}, {"net", "fd00::/8"}}}},
                              {"failsafeOutboundHostPorts",
                               {{{"protocol", "TCP"}, {"port", 443}, {"net", "10.1.2.3"}}}}}));
  auto c = buildAgentConfig({layer});
  ASSERT_TRUE(c.isOk()) << c.message();
  ASSERT_EQ(c->failsafeInbound.size(), 2u);
  EXPECT_EQ(c->failsafeInbound[0].net->toString(), "10.0.0.0/8");
  EXPECT_EQ(c->failsafeInbound[1].net->toString(), "fd00::/8");
  EXPECT_EQ(c->failsafeOutbound[0].net->toString(), "10.1.2.3/32");
  const auto v4 = rules::failsafeChains(c->rendererConfig(), dataplane::IpVersion::kV4);
  ASSERT_EQ(v4[0].rules.size(), 1u);
  EXPECT_EQ(dataplane::renderMatch(v4[0].rules[0].match),
            "-p tcp -m multiport --dports 22 -s 10.0.0.0/8");
  ASSERT_EQ(v4[1].rules.size(), 1u);
  EXPECT_EQ(dataplane::renderMatch(v4[1].rules[0].match),
            "-p tcp -m multiport --dports 443 -d 10.1.2.3/32");
  const auto v6 = rules::failsafeChains(c->rendererConfig(), dataplane::IpVersion::kV6);
  ASSERT_EQ(v6[0].rules.size(), 1u);
  EXPECT_EQ(dataplane::renderMatch(v6[0].rules[0].match),
            "-p udp -m multiport --dports 53 -s fd00::/8");
  EXPECT_TRUE(v6[1].rules.empty());

  // Felix's text forms, an IPv6 net in brackets.
  auto env = buildAgentConfig(
      {{"env", {{"FailsafeInboundHostPorts", "tcp:10.0.0.0/8:22, udp:[fd00::/8]:53, 68"}}}});
  ASSERT_TRUE(env.isOk()) << env.message();
  EXPECT_EQ(env->failsafeInbound,
            (std::vector<rules::FailsafePort>{{"tcp", 22, Cidr::parse("10.0.0.0/8").value()},
                                              {"udp", 53, Cidr::parse("fd00::/8").value()},
                                              {"tcp", 68, std::nullopt}}));
  for (const char* bad : {"tcp:10.0.0.0/33:22", "tcp:[fd00::/8:53", "tcp:1.2.3.4:5:6", "udp:x:1"}) {
    EXPECT_FALSE(buildAgentConfig({{"env", {{"FailsafeInboundHostPorts", bad}}}}).isOk()) << bad;
  }
}

// Calico's validator takes SCTP failsafe ports; iptables' multiport match applies them.
TEST(AgentConfigTest, FailsafeSctpPort) {
  auto layer = layerFromFelixConfiguration(felixConfig(
      "default", {{"failsafeInboundHostPorts", {{{"protocol", "SCTP"}, {"port", 20}}}}}));
  auto c = buildAgentConfig({layer});
  ASSERT_TRUE(c.isOk()) << c.message();
  ASSERT_EQ(c->failsafeInbound, (std::vector<rules::FailsafePort>{{"sctp", 20}}));
  const auto chains = rules::failsafeChains(c->rendererConfig(), dataplane::IpVersion::kV4);
  ASSERT_EQ(chains[0].rules.size(), 1u);
  EXPECT_EQ(dataplane::renderMatch(chains[0].rules[0].match), "-p sctp -m multiport --dports 20");
  EXPECT_FALSE(buildAgentConfig({{"env", {{"FailsafeInboundHostPorts", "icmp:1"}}}}).isOk());
}

TEST(AgentConfigTest, PrecedenceFlagsEnvFileNodeGlobal) {
  testutil::TempDir dir;
  std::string file = dir.write("agent.cfg",
                               "IptablesRefreshInterval = 3\nHealthPort = 3\nRouteProtocol = 3\n"
                               "LogSeverityScreen = Error\n");
  std::map<std::string, model::Resource> store = {
      {"default", felixConfig("default", {{"iptablesRefreshInterval", "1s"},
                                          {"healthPort", 1},
                                          {"routeProtocol", 1},
                                          {"prometheusMetricsPort", 1},
                                          {"ipsetsRefreshInterval", "1s"}})},
      {"node.n1", felixConfig("node.n1", {{"ipsetsRefreshInterval", "2s"},
                                          {"prometheusMetricsPort", 2},
                                          {"healthPort", 2}})},
  };
  FelixConfigReader reader =
      [&](const std::string& name) -> Result<std::optional<model::Resource>> {
    auto it = store.find(name);
    if (it == store.end()) return std::optional<model::Resource>();
    return std::optional<model::Resource>(it->second);
  };
  CommandLine cl;
  cl.configFile = file;
  cl.logSeverityScreen = "Debug";
  std::map<std::string, std::string> env = {
      {"NODENAME", "n1"}, {"FELIX_ROUTEPROTOCOL", "4"}, {"BRINDLE_STORE_PATH", "/x/store.db"}};
  auto c = loadAgentConfig(cl, env, reader, "host-a", dir.file("none.cfg"));
  ASSERT_TRUE(c.isOk()) << c.message();
  EXPECT_EQ(c->nodename, "n1");
  EXPECT_EQ(c->logSeverityScreen, "Debug");  // flag beats file
  EXPECT_EQ(c->routeProtocol, 4);            // environment beats file and datastore
  EXPECT_EQ(c->healthPort, 3);               // file beats node and global
  EXPECT_EQ(c->iptablesRefreshInterval, milliseconds(3000));
  EXPECT_EQ(c->prometheusMetricsPort, 2);  // node.<name> beats default
  EXPECT_EQ(c->ipsetsRefreshInterval, milliseconds(2000));
  EXPECT_EQ(c->sources["RouteProtocol"], "environment");
  EXPECT_EQ(c->sources["PrometheusMetricsPort"], "FelixConfiguration node.n1");
  EXPECT_EQ(c->datastore.storePath, "/x/store.db");  // same datastore config as brindlectl
}

TEST(AgentConfigTest, NodenamePrecedence) {
  testutil::TempDir dir;
  std::string file = dir.write("agent.cfg", "Nodename = from-file\n");
  CommandLine cl;
  cl.configFile = file;
  EXPECT_EQ(loadLocalAgentConfig(cl, {}, "host-a")->nodename, "from-file");
  EXPECT_EQ(loadLocalAgentConfig(cl, {{"NODENAME", "from-env"}}, "host-a")->nodename, "from-env");
  cl.nodename = "from-flag";
  EXPECT_EQ(loadLocalAgentConfig(cl, {{"NODENAME", "from-env"}}, "host-a")->nodename, "from-flag");
  EXPECT_EQ(loadLocalAgentConfig({}, {}, "host-a", dir.file("absent.cfg"))->nodename, "host-a");
}

TEST(AgentConfigTest, ExplicitFileMustExist) {
  CommandLine cl;
  cl.configFile = "/nonexistent/agent.cfg";
  auto c = loadLocalAgentConfig(cl, {}, "h");
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.code(), ErrorCode::kNotFound);
}

TEST(AgentConfigTest, DatastoreErrorIsReported) {
  FelixConfigReader reader = [](const std::string&) -> Result<std::optional<model::Resource>> {
    return makeError(ErrorCode::kUnavailable, "store down");
  };
  auto c = loadAgentConfig({}, {}, reader, "h", "/nonexistent.cfg");
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace brindle::agent
