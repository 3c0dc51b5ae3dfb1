// FelixConfig: the one parser of each agent setting, shared by the agent's sources and by
// FelixConfiguration validation.
#include "model/felix_config.h"

#include <gtest/gtest.h>

#include "model/validate.h"

namespace brindle::model {
namespace {

using std::chrono::milliseconds;

TEST(FelixConfigTest, NamesInAnyCase) {
  EXPECT_STREQ(felixParamName("iptablesrefreshinterval"), "IptablesRefreshInterval");
  EXPECT_STREQ(felixParamName("IPV6SUPPORT"), "Ipv6Support");
  EXPECT_EQ(felixParamName("IptablesRefreshIntervall"), nullptr);
}

TEST(FelixConfigTest, EachSettingParsesItsText) {
  FelixConfig c;
  ASSERT_TRUE(setFelixParam(c, "chaininsertmode", "Append").isOk());
  EXPECT_FALSE(c.chainInsertAtTop);
  ASSERT_TRUE(setFelixParam(c, "DefaultEndpointToHostAction", " return ").isOk());
  EXPECT_EQ(c.defaultEndpointToHostAction, EndpointToHostAction::kReturn);
  ASSERT_TRUE(setFelixParam(c, "IptablesMarkMask", "0xe0").isOk());
  EXPECT_EQ(c.iptablesMarkMask, 0xe0u);
  ASSERT_TRUE(setFelixParam(c, "FailsafeInboundHostPorts", "22, udp:68").isOk());
  EXPECT_EQ(c.failsafeInbound, (std::vector<FailsafePort>{{"tcp", 22}, {"udp", 68}}));
  ASSERT_TRUE(setFelixParam(c, "LogSeverityScreen", "warning").isOk());
  EXPECT_EQ(c.logSeverityScreen, "Warning");
  ASSERT_TRUE(setFelixParam(c, "nftablesMode", "Enabled").isOk());  // FelixConfiguration's name
  EXPECT_TRUE(c.nftablesEnabled);
  ASSERT_TRUE(setFelixParam(c, "NFTablesMode", "Auto").isOk());  // no kube-proxy to follow
  EXPECT_FALSE(c.nftablesEnabled);
  EXPECT_NE(setFelixParam(c, "NFTablesMode", "On").message().find("Enabled, Disabled or Auto"),
            std::string::npos);
  ASSERT_TRUE(setFelixParam(c, "InterfacePrefix", "cali,tap").isOk());
  EXPECT_EQ(c.interfacePrefixes, (std::vector<std::string>{"cali", "tap"}));

  EXPECT_NE(setFelixParam(c, "IptablesMarkMask", "0x3").message().find("3 bits"),
            std::string::npos);
  EXPECT_NE(setFelixParam(c, "NetworkingBackend", "calico").message().find("bird or none"),
            std::string::npos);
  EXPECT_FALSE(setFelixParam(c, "HealthPort", "65536").isOk());
  EXPECT_FALSE(setFelixParam(c, "FailsafeOutboundHostPorts", "icmp:9").isOk());
  EXPECT_FALSE(setFelixParam(c, "NoSuchSetting", "1").isOk());
}

TEST(FelixConfigTest, GoDurationsAndPlainSeconds) {
  EXPECT_EQ(*parseDuration("30"), milliseconds(30000));
  EXPECT_EQ(*parseDuration("0.5"), milliseconds(500));
  EXPECT_EQ(*parseDuration("1h1m1.5s"), milliseconds(3661500));
  EXPECT_EQ(*parseDuration("1500us"), milliseconds(2));  // rounded to the millisecond
  EXPECT_EQ(*parseDuration("2000000ns"), milliseconds(2));
  EXPECT_EQ(*parseDuration("0"), milliseconds(0));
  for (const char* bad : {"", "s", "1x", ".s", "1m-1s", "-1s", "1 s", "5m3"}) {
    EXPECT_FALSE(parseDuration(bad).isOk()) << bad;
  }
}

TEST(FelixConfigTest, FelixConfigurationSpecAsSettings) {
  Json spec = Json::parse(R"({"iptablesRefreshInterval": "5s", "ipv6Support": false,
      "healthPort": 9100, "failsafeInboundHostPorts": [{"protocol": "UDP", "port": 53}],
      "failsafeOutboundHostPorts": [], "reportingInterval": "30s"})");
  auto settings = felixConfigurationSettings(spec);
  EXPECT_EQ(settings, (std::map<std::string, std::string>{
                          {"FailsafeInboundHostPorts", "UDP:53"},
                          {"FailsafeOutboundHostPorts", "none"},
                          {"HealthPort", "9100"},
                          {"IptablesRefreshInterval", "5s"},
                          {"Ipv6Support", "false"}}));  // reportingInterval: not acted on
  EXPECT_TRUE(checkFelixConfigurationSettings(spec).isOk());
}

// A FelixConfiguration the agent could not run with is refused when written, naming the field.
TEST(FelixConfigTest, ValidationUsesTheAgentsParsers) {
  Resource r;
  r.kind = Kind::kFelixConfiguration;
  r.metadata = Json::parse(R"({"name": "default"})");
  r.spec = Json::parse(R"({"iptablesMarkMask": 1})");
  EXPECT_EQ(validateResource(r).message(), "spec.iptablesMarkMask: needs at least 3 bits set: '1'");
  r.spec = Json::parse(R"({"iptablesMarkMask": 117440512, "iptablesRefreshInterval": "100us"})");
  EXPECT_TRUE(validateResource(r).isOk()) << validateResource(r).message();
}

}  // namespace
}  // namespace brindle::model
