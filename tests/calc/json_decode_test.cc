// Tests of parseJson: the same values, number types and errors as model::Json::parse, whether
// the fast reader handles the text or hands it to the library.
#include "calc/json_decode.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace brindle::calc {
namespace {

using model::Json;

// Same value, same dump (number types and member order included).
void expectSame(const std::string& text) {
  Json want = Json::parse(text);
  Json got = parseJson(text);
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
      Json j = parseJson(t);
      (void)j;
    } catch (const std::exception& e) {
      got = e.what();
    }
    EXPECT_FALSE(want.empty()) << t;
    EXPECT_EQ(got, want) << t;
  }
}

}  // namespace
}  // namespace brindle::calc
