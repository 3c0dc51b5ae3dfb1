// Differential tests of parseStoredJson against nlohmann: the same values, number types and
// errors as Json::parse, whether the fast reader handles the text or hands it to the library.
#include "model/resource.h"

#include <gtest/gtest.h>

#include <random>

#include <string>
#include <vector>

namespace brindle::model {
namespace {

// Same value, same dump (number types and member order included).
void expectSame(const std::string& text) {
  Json want = Json::parse(text);
  Json got = parseStoredJson(text);
  EXPECT_EQ(got, want) << text;
  EXPECT_EQ(got.dump(), want.dump()) << text;
  EXPECT_EQ(got.type(), want.type()) << text;
}

TEST(ParseJson, MatchesTheLibrary) {
  const std::vector<std::string> texts = {
      R"({"apiVersion":"projectcalico.org/v3","kind":"WorkloadEndpoint","metadata":{"name":"n0-k8s-w0-eth0","namespace":"default","labels":{"app":"app0"}},"spec":{"node":"n0","ipNetworks":["10.64.0.1/32"],"ports":[80,443,"8000:8100"],"order":100.5}})",
      " \t\r\n{ \"a\" : [ 1 , -2 , 3.5 , -0 , 0 , 1e3 , -1.5E-2 , true , false , null , {} , [] ] "
      "} ",
      R"({"esc":"q\" b\\ s\/ \b\f\n\r\t end"})",
      R"({"dup":1,"x":2,"dup":3})",
      R"({"big":18446744073709551615,"bigger":18446744073709551616,"neg":-9223372036854775808,"negger":-9223372036854775809})",
      R"("just a string")",
      "42",
      "[[[[[[1]]]]]]",
      R"({"unicode":"\u00e9\ud83d\ude00","raw":"caf)"
      "\xc3\xa9"
      R"("})",
      "\xef\xbb\xbf{\"bom\":1}",
  };
  for (const auto& t : texts) expectSame(t);
  std::string deep(300, '[');
  deep += std::string(300, ']');
  expectSame(deep);
}

TEST(ParseJson, RejectsWhatTheLibraryRejects) {
  const std::vector<std::string> bad = {
      "",      "{",          "{\"a\":}",  "{\"a\" 1}", "[1,]",      "{\"a\":1,}",
      "01",    "1.",         "-",         ".5",        "1e",        "tru",
      "nul",   "\"abc",      "\"a\x01\"", "{} x",      "[1 2]",     "\"\\x\"",
      "1e999", "{\"a\":1}}", "// c\n{}",  "\"\xff\"",  "{\"a\":-}", "[\"\\u12\"]",
  };
  for (const auto& t : bad) {
    std::string want, got;
    try {
      Json j = Json::parse(t);
      (void)j;
    } catch (const std::exception& e) {
      want = e.what();
    }
    try {
      Json j = parseStoredJson(t);
      (void)j;
    } catch (const std::exception& e) {
      got = e.what();
    }
    EXPECT_FALSE(want.empty()) << t;
    EXPECT_EQ(got, want) << t;
  }
}

// What a parser makes of `text`: its compact dump and type, or the exception's message.
template <typename Parse>
std::string outcome(Parse parse, const std::string& text) {
  try {
    Json j = parse(text);
    return j.dump() + " type " + std::to_string(static_cast<int>(j.type()));
  } catch (const std::exception& e) {
    return std::string("error ") + e.what();
  }
}

// Random edits of stored-looking values (cut, dropped, doubled and replaced bytes) reach the
// corners of the fast reader (and its hand-over to the library) that hand-written cases miss.
TEST(ParseJson, RandomEditsMatchTheLibrary) {
  const std::vector<std::string> seeds = {
      R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy","metadata":{"name":"p"},"spec":{"order":10,"selector":"a == 'b'","ingress":[{"action":"Allow","protocol":"TCP","destination":{"ports":[80,"8000:8100"]}}],"egress":[]}})",
      R"({"kind":"IPPool","spec":{"cidr":"10.0.0.0/16","blockSize":26,"natOutgoing":true,"x":[-1.5e-3,0,null,false]}})",
      R"([""\\/

	",1e308,-0.0,123456789012345678901234567890,{"":{}}])",
  };
  const std::string alphabet = "{}[]\\\",:.-+eE0123456789 \t\nabtrufnl\x01\xc3\xa9";
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    std::string text = seeds[rng() % seeds.size()];
    for (int edits = 1 + rng() % 3; edits > 0 && !text.empty(); --edits) {
      const size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0:
          text.resize(at);
          break;
        case 1:
          text.erase(at, 1);
          break;
        case 2:
          text.insert(at, 1, text[at]);
          break;
        default:
          text[at] = alphabet[rng() % alphabet.size()];
      }
    }
    ASSERT_EQ(outcome(parseStoredJson, text),
              outcome([](const std::string& t) { return Json::parse(t); }, text))
        << text;
  }
}

}  // namespace
}  // namespace brindle::model
