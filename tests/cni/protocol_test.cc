// CNI protocol: config parsing per spec version, result and error JSON shapes, environment.
#include "cni/protocol.h"

#include <gtest/gtest.h>

namespace brindle::cni {
namespace {

std::string conf(const std::string& version, const std::string& extra = "") {
  return R"({"cniVersion":")" + version + R"(","name":"net1","type":"brindle-cni")" + extra + "}";
}

TEST(NetConf, AcceptsEverySupportedVersion) {
  for (const char* v : {"0.3.0", "0.3.1", "0.4.0", "1.0.0"}) {
    CniError e;
    auto c = parseNetConf(conf(v), &e);
    ASSERT_TRUE(c) << v << ": " << e.msg;
    EXPECT_EQ(c->cniVersion, v);
    EXPECT_EQ(c->mtu, 1500);
    EXPECT_EQ(c->ipam.type, "brindle-ipam");
    EXPECT_TRUE(c->ipam.assignIpv4);
    EXPECT_FALSE(c->ipam.assignIpv6);
  }
}

TEST(NetConf, RejectsWithTheSpecsCodes) {
  struct Case {
    std::string text;
    ErrCode code;
  } cases[] = {
      {conf("0.2.0"), ErrCode::kIncompatibleVersion},
      {conf("2.0.0"), ErrCode::kIncompatibleVersion},
      {"{not json", ErrCode::kDecodeFailure},
      {"[1,2]", ErrCode::kDecodeFailure},
      {R"({"cniVersion":"1.0.0","type":"brindle-cni"})", ErrCode::kInvalidConfig},
      {conf("1.0.0", R"(,"mtu":"big")"), ErrCode::kInvalidConfig},
      {conf("1.0.0", R"(,"mtu":20)"), ErrCode::kInvalidConfig},
      {conf("1.0.0", R"(,"ipam":{"type":"brindle-ipam","assign_ipv4":"maybe"})"),
       ErrCode::kInvalidConfig},
      {conf("1.0.0", R"(,"ipam":{"type":"brindle-ipam","assign_ipv4":false})"),
       ErrCode::kInvalidConfig},
      {conf("1.0.0", R"(,"etcd_endpoints":7)"), ErrCode::kInvalidConfig},
      {conf("1.0.0", R"(,"runtimeConfig":{"labels":{"a":1}})"), ErrCode::kInvalidConfig},
      // Hostile input: deep nesting and an oversized config fail as undecodable, at once.
      {conf("1.0.0", ",\"x\":" + std::string(100000, '[') + std::string(100000, ']')),
       ErrCode::kDecodeFailure},
      {conf("1.0.0", ",\"x\":\"" + std::string(2 << 20, 'a') + "\""), ErrCode::kDecodeFailure},
      // A number where an integer is wanted that is not one, or too large (found by fuzzing).
      {conf("1.0.0", R"(,"mtu":68E62)"), ErrCode::kInvalidConfig},
      {conf("1.0.0", R"(,"mtu":1500.5)"), ErrCode::kInvalidConfig},
      {conf("1.0.0", R"(,"mtu":99999999999)"), ErrCode::kInvalidConfig},
  };
  for (const auto& c : cases) {
    CniError e;
    EXPECT_FALSE(parseNetConf(c.text, &e)) << c.text;
    EXPECT_EQ(e.code, c.code) << c.text << " -> " << e.msg;
    EXPECT_FALSE(e.msg.empty());
  }
}

TEST(NetConf, ReadsCalicoFields) {
  CniError e;
  auto c = parseNetConf(conf("0.4.0", R"(,"mtu":1400,"nodename":"n1","log_level":"debug",
      "datastore_type":"etcdv3","etcd_endpoints":"http://a:2379,http://b:2379",
      "etcd_username":"u","etcd_password":"p","etcd_key_file":"k","etcd_cert_file":"c",
      "etcd_ca_cert_file":"ca","store_path":"/tmp/s.db",
      "ipam":{"type":"brindle-ipam","assign_ipv4":"true","assign_ipv6":"true",
              "ipv4_pools":["10.1.0.0/16"],"ipv6_pools":["fd00::/64"]},
      "runtimeConfig":{"labels":{"app":"web"}},
      "args":{"cni":{"labels":[{"key":"tier","value":"front"}]}},
      "dns":{"nameservers":["10.0.0.10"]},
      "prevResult":{"cniVersion":"0.4.0","ips":[]})"),
                        &e);
  ASSERT_TRUE(c) << e.msg;
  EXPECT_EQ(c->mtu, 1400);
  EXPECT_EQ(c->nodename, "n1");
  EXPECT_EQ(c->etcdEndpoints, "http://a:2379,http://b:2379");
  EXPECT_EQ(c->etcdCaCertFile, "ca");
  EXPECT_EQ(c->storePath, "/tmp/s.db");
  EXPECT_TRUE(c->ipam.assignIpv6);
  EXPECT_EQ(c->ipam.ipv4Pools, std::vector<std::string>{"10.1.0.0/16"});
  EXPECT_EQ(c->labels.at("app"), "web");
  EXPECT_EQ(c->labels.at("tier"), "front");
  EXPECT_EQ(c->dns["nameservers"][0], "10.0.0.10");
  EXPECT_TRUE(c->prevResult.has_value());

  auto list = parseNetConf(conf("1.0.0", R"(,"etcd_endpoints":["http://a:1","http://b:2"])"), &e);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->etcdEndpoints, "http://a:1,http://b:2");
}

CniResult sampleResult() {
  CniResult r;
  r.interfaces = {{"cali0123456789a", "ee:ee:ee:ee:ee:ee", ""},
                  {"eth0", "02:00:00:00:00:01", "/var/run/netns/x"}};
  r.ips.push_back({IpAddr::parse("10.0.0.5").value(), 32, std::nullopt, 1});
  r.ips.push_back({IpAddr::parse("fd00::5").value(), 128, std::nullopt, 1});
  r.routes.push_back({Cidr::parse("0.0.0.0/0").value(), IpAddr::parse("169.254.1.1").value()});
  return r;
}

TEST(Result, ZeroXShapesCarryIpVersion) {
  for (const char* v : {"0.3.0", "0.3.1", "0.4.0"}) {
    Json j = resultToJson(sampleResult(), v);
    EXPECT_EQ(j["cniVersion"], v);
    EXPECT_EQ(j["ips"][0]["version"], "4");
    EXPECT_EQ(j["ips"][1]["version"], "6");
    EXPECT_EQ(j["ips"][0]["address"], "10.0.0.5/32");
    EXPECT_EQ(j["ips"][0]["interface"], 1);
    EXPECT_EQ(j["interfaces"][1]["sandbox"], "/var/run/netns/x");
    EXPECT_FALSE(j["interfaces"][0].contains("sandbox"));
    EXPECT_EQ(j["routes"][0]["dst"], "0.0.0.0/0");
    EXPECT_EQ(j["routes"][0]["gw"], "169.254.1.1");
  }
}

TEST(Result, OneZeroShapeHasNoIpVersion) {
  Json j = resultToJson(sampleResult(), "1.0.0");
  EXPECT_FALSE(j["ips"][0].contains("version"));
  EXPECT_EQ(j["ips"][1]["address"], "fd00::5/128");
  EXPECT_TRUE(j["dns"].is_object());
}

TEST(Result, RoundTripsAndKeepsHostBits) {
  auto back = resultFromJson(resultToJson(sampleResult(), "0.4.0"));
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(resultToJson(*back, "1.0.0"), resultToJson(sampleResult(), "1.0.0"));
  // host-local answers with the subnet's prefix: the address must survive with it.
  auto hl = resultFromJson(Json::parse(
      R"({"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.22.0.5/16","gateway":"10.22.0.1"}]})"));
  ASSERT_TRUE(hl);
  EXPECT_EQ(hl->ips[0].ip.toString(), "10.22.0.5");
  EXPECT_EQ(hl->ips[0].prefixLength, 16);
  EXPECT_EQ(hl->ips[0].gateway->toString(), "10.22.0.1");
  EXPECT_FALSE(resultFromJson(Json::parse(R"({"ips":[{"address":"nope"}]})")));
}

TEST(Errors, ErrorJsonHasTheSpecsFields) {
  Json j = Json::parse(errorJson({ErrCode::kInvalidConfig, "bad mtu", "mtu 20"}, "0.4.0"));
  EXPECT_EQ(j["cniVersion"], "0.4.0");
  EXPECT_EQ(j["code"], 7);
  EXPECT_EQ(j["msg"], "bad mtu");
  EXPECT_EQ(j["details"], "mtu 20");
  Json k = Json::parse(errorJson({ErrCode::kOther, "x", ""}, ""));
  EXPECT_EQ(k["cniVersion"], "1.0.0");
  EXPECT_FALSE(k.contains("details"));
  EXPECT_EQ(fromError(makeError(ErrorCode::kUnavailable, "etcd down"), "m").code,
            ErrCode::kTryAgainLater);
}

TEST(Version, ListsSupportedVersions) {
  Json j = Json::parse(versionJson("0.4.0"));
  EXPECT_EQ(j["cniVersion"], "0.4.0");
  EXPECT_EQ(j["supportedVersions"], Json({"0.3.0", "0.3.1", "0.4.0", "1.0.0"}));
}

TEST(Env, ReadsAndChecksVariables) {
  std::map<std::string, std::string> env = {
      {"CNI_COMMAND", "ADD"},
      {"CNI_CONTAINERID", "abc"},
      {"CNI_NETNS", "/var/run/netns/x"},
      {"CNI_IFNAME", "eth0"},
      {"CNI_PATH", "/opt/cni/bin"},
      {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;label.app=web"}};
  CniError e;
  auto r = readEnv(env, &e);
  ASSERT_TRUE(r) << e.msg;
  EXPECT_EQ(r->arg("K8S_POD_NAME"), "p");
  EXPECT_EQ(r->arg("label.app"), "web");
  EXPECT_EQ(r->arg("nope"), "");

  auto without = [&](const char* key) {
    auto copy = env;
    copy.erase(key);
    return copy;
  };
  for (const char* key : {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_IFNAME", "CNI_NETNS"}) {
    EXPECT_FALSE(readEnv(without(key), &e)) << key;
    EXPECT_EQ(e.code, ErrCode::kInvalidEnv);
  }
  auto del = without("CNI_NETNS");
  del["CNI_COMMAND"] = "DEL";
  EXPECT_TRUE(readEnv(del, &e)) << "DEL may come without a namespace";
  auto bad = env;
  bad["CNI_ARGS"] = "novalue";
  EXPECT_FALSE(readEnv(bad, &e));
  bad = env;
  bad["CNI_COMMAND"] = "UP";
  EXPECT_FALSE(readEnv(bad, &e));
  EXPECT_TRUE(readEnv({{"CNI_COMMAND", "VERSION"}}, &e));
}

}  // namespace
}  // namespace brindle::cni
