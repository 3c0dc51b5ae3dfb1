// Table-driven tests of the selector language: matching (with Calico's absent-label rules),
// canonical spelling, error messages with columns, and the canonical round trip.
#include "selector/selector.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "selector/ast.h"
#include "selector/parser.h"
#include "selector/tokenizer.h"

namespace brindle::selector {
namespace {

// ---------------------------------------------------------------------------------------------
// Matching: (selector, labels, expected).

struct MatchCase {
  std::string text;
  Labels labels;
  bool expected;
};

std::ostream& operator<<(std::ostream& os, const MatchCase& c) {
  os << "`" << c.text << "` on {";
  for (const auto& [k, v] : c.labels) os << k << ":" << v << " ";
  return os << "} -> " << (c.expected ? "match" : "no match");
}

const std::vector<MatchCase>& matchCases() {
  static const std::vector<MatchCase> cases = {
      // Equality; an absent label never equals anything.
      {R"(a == "b")", {{"a", "b"}}, true},
      {R"(a == "b")", {{"a", "b"}, {"c", "d"}}, true},
      {R"(a == "b")", {}, false},
      {R"(a == "b")", {{"a", "c"}}, false},
      {R"(a == "b")", {{"c", "d"}}, false},
      {R"(a == 'b')", {{"a", "b"}}, true},
      {R"(a == "")", {{"a", ""}}, true},
      {R"(a == "")", {}, false},
      {R"(a=="b")", {{"a", "b"}}, true},
      {R"(a == "B")", {{"a", "b"}}, false},
      // Inequality is true for an absent label (Calico).
      {R"(a != "b")", {{"a", "c"}}, true},
      {R"(a != "b")", {{"a", "b"}}, false},
      {R"(a != "b")", {}, true},
      {R"(a != "")", {}, true},
      {R"(a != "")", {{"a", ""}}, false},
      // Sets: absent is in no set, so `not in` holds for it.
      {R"(a in {"x", "y"})", {{"a", "x"}}, true},
      {R"(a in {"x", "y"})", {{"a", "y"}}, true},
      {R"(a in {"x", "y"})", {{"a", "z"}}, false},
      {R"(a in {"x", "y"})", {}, false},
      {R"(a in {})", {{"a", ""}}, false},
      {R"(a in {""})", {{"a", ""}}, true},
      {R"(a in {"'", '"', "c"})", {{"a", "\""}}, true},
      {R"(a in {"'", '"', "c"})", {{"a", "'"}}, true},
      {R"(a not in {"x", "y"})", {}, true},
      {R"(a not in {"x", "y"})", {{"a", "x"}}, false},
      {R"(a not in {"x", "y"})", {{"a", "z"}}, true},
      {R"(a notin {"x"})", {{"a", "z"}}, true},
      {R"(a not in {})", {{"a", "x"}}, true},
      {R"(a in {"b", "a", "b"})", {{"a", "b"}}, true},
      {R"(a in {"x",})", {{"a", "x"}}, true},
      // has()
      {"has(a)", {{"a", ""}}, true},
      {"has(a)", {{"b", "x"}}, false},
      {"!has(a)", {}, true},
      {"!has(a)", {{"a", "x"}}, false},
      {"has( a )", {{"a", "x"}}, true},
      // all(), global() and the empty selector match everything.
      {"", {}, true},
      {"   ", {{"a", "b"}}, true},
      {"\t", {}, true},
      {"all()", {}, true},
      {"all( )", {{"a", "b"}}, true},
      {"global()", {}, true},
      {"global()", {{"a", "b"}}, true},
      // String operators are false for an absent label.
      {R"(a contains "an")", {{"a", "banana"}}, true},
      {R"(a contains "x")", {{"a", "banana"}}, false},
      {R"(a contains "")", {{"a", ""}}, true},
      {R"(a contains "x")", {}, false},
      {R"(a contains "")", {}, false},
      {R"(a starts with "ban")", {{"a", "banana"}}, true},
      {R"(a starts with "nan")", {{"a", "banana"}}, false},
      {R"(a startswith "b")", {{"a", "b"}}, true},
      {R"(a starts   with "b")", {}, false},
      {R"(a ends with "ana")", {{"a", "banana"}}, true},
      {R"(a ends with "ban")", {{"a", "banana"}}, false},
      {R"(a endswith "a")", {}, false},
      {R"(a ends with "")", {{"a", "x"}}, true},
      {R"(a starts with "banana!")", {{"a", "banana"}}, false},
      // Negation applies to the following term only.
      {R"(!a == "b")", {{"a", "b"}}, false},
      {R"(!a == "b")", {}, true},
      {R"(!a != "b")", {}, false},
      {"!!has(a)", {{"a", "x"}}, true},
      {"!!!has(a)", {{"a", "x"}}, false},
      {"! ! has(a)", {}, false},
      {"!(has(a))", {}, true},
      {"!(!has(a))", {{"a", "x"}}, true},
      {R"(!a in {"x"})", {{"a", "y"}}, true},
      {R"(!a not in {"x"})", {}, false},
      {"!all()", {}, false},
      {"!global()", {}, false},
      // && binds tighter than ||; ! tighter than both.
      {R"(a == "1" && b == "2")", {{"a", "1"}, {"b", "2"}}, true},
      {R"(a == "1" && b == "2")", {{"a", "1"}}, false},
      {R"(a == "1" || b == "2")", {{"b", "2"}}, true},
      {R"(a == "1" || b == "2")", {}, false},
      {R"(a == "1" && b == "2" || c == "3")", {{"c", "3"}}, true},
      {R"(a == "1" && b == "2" || c == "3")", {{"a", "1"}}, false},
      {R"(a == "1" || b == "2" && c == "3")", {{"a", "1"}}, true},
      {R"(a == "1" || b == "2" && c == "3")", {{"b", "2"}}, false},
      {R"((a == "1" || b == "2") && c == "3")", {{"a", "1"}}, false},
      {R"((a == "1" || b == "2") && c == "3")", {{"a", "1"}, {"c", "3"}}, true},
      {R"(!a == "1" && b == "2")", {{"b", "2"}}, true},
      {R"(!a == "1" && b == "2")", {{"a", "1"}, {"b", "2"}}, false},
      {R"(!(a == "1" && b == "2"))", {{"a", "1"}}, true},
      {R"(!(a == "1" && b == "2"))", {{"a", "1"}, {"b", "2"}}, false},
      {"has(a) && !has(b)", {{"a", "x"}}, true},
      {"has(a) && !has(b)", {{"a", "x"}, {"b", "y"}}, false},
      {"!(has(b) || !has(a))", {{"a", "x"}}, true},
      {R"(a != "1" && b != "2")", {}, true},
      {R"(a != "1" || b != "2")", {{"a", "1"}, {"b", "2"}}, false},
      {R"(((((a == "1")))))", {{"a", "1"}}, true},
      {R"(a=="1"&&b=="2")", {{"a", "1"}, {"b", "2"}}, true},
      {R"(a=="1"||b=="2")", {{"b", "2"}}, true},
      {R"(a == "1" && b == "2" && c == "3")", {{"a", "1"}, {"b", "2"}, {"c", "3"}}, true},
      {R"(a == "1" && b == "2" && c == "3")", {{"a", "1"}, {"b", "2"}, {"c", "4"}}, false},
      {R"(app == "web" && tier in {"fe", "be"} && !has(debug) || env starts with "prod")",
       {{"env", "production"}},
       true},
      {R"(app == "web" && tier in {"fe", "be"} && !has(debug) || env starts with "prod")",
       {{"app", "web"}, {"tier", "fe"}, {"debug", "1"}},
       false},
      {R"(app == "web" && tier in {"fe", "be"} && !has(debug) || env starts with "prod")",
       {{"app", "web"}, {"tier", "be"}},
       true},
      // Label keys: DNS prefixes, slashes, dots, dashes, digits, and operator words as keys.
      {R"(projectcalico.org/namespace == "default")",
       {{"projectcalico.org/namespace", "default"}},
       true},
      {"projectcalico.org/orchestrator == 'k8s'", {}, false},
      {R"(k8s-app == "kube-dns")", {{"k8s-app", "kube-dns"}}, true},
      {"has(projectcalico.org/name)", {{"projectcalico.org/name", "x"}}, true},
      {R"(a.b_c-d/e.f == "x")", {{"a.b_c-d/e.f", "x"}}, true},
      {R"(123 == "x")", {{"123", "x"}}, true},
      {R"(in == "x")", {{"in", "x"}}, true},
      {R"(contains contains "x")", {{"contains", "axb"}}, true},
      {R"(not in {"x"})", {{"not", "x"}}, true},
      {R"(has == "x")", {{"has", "x"}}, true},
      {R"(all == "x")", {{"all", "x"}}, true},
      {R"(global != "x")", {}, true},
      // Values hold any character except their own quote.
      {R"(a == "with space")", {{"a", "with space"}}, true},
      {R"(a == "x&&y")", {{"a", "x&&y"}}, true},
      {R"s(a == "(x)")s", {{"a", "(x)"}}, true},
      {R"(a == '"quoted"')", {{"a", "\"quoted\""}}, true},
      {R"(a == "it's")", {{"a", "it's"}}, true},
      {"a == \"tab\there\"", {{"a", "tab\there"}}, true},
      // Blanks are optional between tokens and may be tabs.
      {"a\t==\t\"b\"", {{"a", "b"}}, true},
      {R"(a in{"x"})", {{"a", "x"}}, true},
      {R"(a contains"x")", {{"a", "x"}}, true},
      {R"(a ==  'b'  &&  (  has( c )  ))", {{"a", "b"}, {"c", ""}}, true},
  };
  return cases;
}

class MatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(MatchTest, Matches) {
  const MatchCase& c = GetParam();
  Result<Selector> sel = Selector::parse(c.text);
  ASSERT_TRUE(sel.isOk()) << sel.message();
  EXPECT_EQ(sel->matches(c.labels), c.expected) << "canonical: " << sel->canonical();
}

// The round trip: the canonical spelling parses to the same canonical and evaluates the same.
TEST_P(MatchTest, CanonicalRoundTrips) {
  const MatchCase& c = GetParam();
  Result<Selector> sel = Selector::parse(c.text);
  ASSERT_TRUE(sel.isOk()) << sel.message();
  Result<Selector> again = Selector::parse(sel->canonical());
  ASSERT_TRUE(again.isOk()) << sel->canonical() << ": " << again.message();
  EXPECT_EQ(again->canonical(), sel->canonical());
  EXPECT_EQ(again->matches(c.labels), c.expected);
  EXPECT_TRUE(*again == *sel);
}

INSTANTIATE_TEST_SUITE_P(Table, MatchTest, testing::ValuesIn(matchCases()));

// ---------------------------------------------------------------------------------------------
// Canonical spelling: (selector, canonical). Structure as Calico writes it: && and || groups in
// parentheses, sets sorted and de-duplicated, double quotes unless the value holds one.

struct CanonicalCase {
  std::string text;
  std::string canonical;
};

std::ostream& operator<<(std::ostream& os, const CanonicalCase& c) {
  return os << "`" << c.text << "` -> `" << c.canonical << "`";
}

const std::vector<CanonicalCase>& canonicalCases() {
  static const std::vector<CanonicalCase> cases = {
      {"", "all()"},
      {"  \t ", "all()"},
      {" all() ", "all()"},
      {" (all() )", "all()"},
      {"global( )", "global()"},
      {"! (has( b)||! has(a ))", "!(has(b) || !has(a))"},
      {R"(! (a == "b"&&! c != "d"))", R"(!(a == "b" && !c != "d"))"},
      {R"(a == "'")", R"(a == "'")"},
      {R"(a == '"')", R"(a == '"')"},
      {R"(a == 'plain')", R"(a == "plain")"},
      {R"(a contains '"')", R"(a contains '"')"},
      {R"(a startswith '"')", R"(a starts with '"')"},
      {R"(a endswith "'")", R"(a ends with "'")"},
      {R"(a  starts	with 'x')", R"(a starts with "x")"},
      {R"(a!='"')", R"(a != '"')"},
      {R"(a in {"d"})", R"(a in {"d"})"},
      {R"(a in {"d", "a", "b"})", R"(a in {"a", "b", "d"})"},
      {R"(a in {"z", "z", "x", "y", "x", "a"})", R"(a in {"a", "x", "y", "z"})"},
      {R"(a in {'"', "'"})", R"(a in {'"', "'"})"},
      {R"(a in {"x",})", R"(a in {"x"})"},
      {R"(a in {})", R"(a in {})"},
      {R"(a notin {'x'})", R"(a not in {"x"})"},
      {"a   not   in {}", "a not in {}"},
      {"a=='x'&&b=='y'", R"((a == "x" && b == "y"))"},
      {R"(a == "x" && b == "y")", R"((a == "x" && b == "y"))"},
      {R"((a == "x") && (b == "y"))", R"((a == "x" && b == "y"))"},
      {R"(a == 'x' || b == "y" && c == "z")", R"((a == "x" || (b == "y" && c == "z")))"},
      {R"((a == "x" || b == "y") && c == "z")", R"(((a == "x" || b == "y") && c == "z"))"},
      {R"(a == "x" && (b == "y" && c == "z"))", R"((a == "x" && (b == "y" && c == "z")))"},
      {"!!has(a)", "has(a)"},
      {"!!!has(a)", "!has(a)"},
      {"!(!has(a))", "has(a)"},
      {"!(!(!has(a)))", "!has(a)"},
      {"!!(!has(a))", "!has(a)"},
      {R"(((a == "x")))", R"(a == "x")"},
      {"has(projectcalico.org/name)", "has(projectcalico.org/name)"},
      {R"(!a in {"b"})", R"(!a in {"b"})"},
      {R"(!(a in {"b"}))", R"(!a in {"b"})"},
      {"! all()", "!all()"},
      {"a\t==\t'x'", R"(a == "x")"},
      {R"(a in {"b","a"} && !has(c) || d starts with 'e')",
       R"(((a in {"a", "b"} && !has(c)) || d starts with "e"))"},
      {R"(a == "")", R"(a == "")"},
      {R"(!(a == "x" || b == "y"))", R"(!(a == "x" || b == "y"))"},
  };
  return cases;
}

class CanonicalTest : public testing::TestWithParam<CanonicalCase> {};

TEST_P(CanonicalTest, IsCanonicalAndRoundTrips) {
  const CanonicalCase& c = GetParam();
  Result<Selector> sel = Selector::parse(c.text);
  ASSERT_TRUE(sel.isOk()) << sel.message();
  EXPECT_EQ(sel->canonical(), c.canonical);
  Result<Selector> again = Selector::parse(sel->canonical());
  ASSERT_TRUE(again.isOk()) << again.message();
  EXPECT_EQ(again->canonical(), c.canonical);
}

INSTANTIATE_TEST_SUITE_P(Table, CanonicalTest, testing::ValuesIn(canonicalCases()));

// ---------------------------------------------------------------------------------------------
// Errors: (bad selector, expected part of the message, column included).

struct ErrorCase {
  std::string text;
  std::string message;
};

std::ostream& operator<<(std::ostream& os, const ErrorCase& c) {
  return os << "`" << c.text << "` -> " << c.message;
}

const std::string kTerm = "expected a label, has(), all(), global(), '!' or '('";
const std::string kOps =
    "expected an operator (==, !=, in, not in, contains, starts with, ends with)";

const std::vector<ErrorCase>& errorCases() {
  static const std::vector<ErrorCase> cases = {
      {"b == b", "col 6: expected a quoted string but found label 'b'"},
      {"b contains b", "col 12: expected a quoted string but found label 'b'"},
      {"b starts with b", "col 15: expected a quoted string"},
      {"b ends with b", "col 13: expected a quoted string"},
      {"'b1' == b", "col 1: " + kTerm + " but found string \"b1\""},
      {"b", "col 2: " + kOps + " after label 'b' but found end of selector"},
      {"a b", "col 3: " + kOps + " after label 'a' but found 'b'"},
      {"a ", "col 3: " + kOps},
      {"!", "col 2: " + kTerm + " but found end of selector"},
      {R"(foo == "bar" &)", "col 14: expected '&&', '||' or end of selector but found '&'"},
      {R"(foo == "bar" |)", "col 14: expected '&&', '||' or end of selector but found '|'"},
      {"foo != ||", "col 8: expected a quoted string but found '||'"},
      {R"(foo in {"", ||)", "col 13: expected a quoted string or '}' but found '||'"},
      {R"(foo in {"", )", "col 13: expected a quoted string or '}' but found end of selector"},
      {R"(foo in "")", "col 8: expected '{' but found string \"\""},
      {R"("FOO)", "col 5: expected closing \" for the string opened at col 1"},
      {R"("FOO')", "col 6: expected closing \" for the string opened at col 1"},
      {"'FOO", "col 5: expected closing ' for the string opened at col 1"},
      {"a == 'x", "col 8: expected closing ' for the string opened at col 6"},
      {"(", "col 2: " + kTerm + " but found end of selector"},
      {R"((a == "foo")", "col 12: expected ')' but found end of selector"},
      {R"(a == "b" && (c == "d" || e == "f")", "col 34: expected ')' but found end of selector"},
      {")", "col 1: " + kTerm + " but found ')'"},
      {"()", "col 2: " + kTerm + " but found ')'"},
      {"%", "col 1: " + kTerm + " but found '%'"},
      {R"(a == "b" && %)", "col 13: " + kTerm + " but found '%'"},
      {R"(a == "b" || %)", "col 13: " + kTerm + " but found '%'"},
      {"has(foo) &&", "col 12: " + kTerm + " but found end of selector"},
      {R"(a == "x" ||)", "col 12: " + kTerm + " but found end of selector"},
      {R"(a = "b")", "col 3: " + kOps + " after label 'a' but found '='"},
      {R"(a == "b" & c == "d")", "col 10: expected '&&', '||' or end of selector but found '&'"},
      {R"(a == "x" &&& b)", "col 12: " + kTerm + " but found '&'"},
      {"has()", "col 5: expected a label key inside 'has(' but found ')'"},
      {"has(a", "col 6: expected ')' to close 'has(' but found end of selector"},
      {"has(a b)", "col 7: expected ')' to close 'has(' but found 'b'"},
      {"has(%)", "col 5: expected a label key inside 'has(' but found '%'"},
      {"all(x)", "col 5: expected ')' to close 'all(' but found 'x'"},
      {"global(", "col 8: expected ')' to close 'global(' but found end of selector"},
      {R"(a in {"x" "y"})", "col 11: expected ',' or '}' but found string \"y\""},
      {"a in {,}", "col 7: expected a quoted string or '}' but found ','"},
      {R"(a in {"x")", "col 10: expected ',' or '}' but found end of selector"},
      {"a in", "col 5: expected '{' but found end of selector"},
      {"a ==", "col 5: expected a quoted string but found end of selector"},
      {R"(a == "b"))", "col 9: expected '&&', '||' or end of selector but found ')'"},
      {R"(a == "b" b == "c")",
       "col 10: expected '&&', '||' or end of selector but found label 'b'"},
      {R"(a containsx "b")", "col 3: " + kOps + " after label 'a' but found 'containsx'"},
      {R"(a inx {"b"})", "col 3: " + kOps + " after label 'a' but found 'inx'"},
      {R"(a starts "x")", "col 3: " + kOps + " after label 'a' but found 'starts'"},
      {R"(a has(b))", "col 3: " + kOps + " after label 'a' but found 'has'"},
      {R"(!= "x")", "col 1: " + kTerm + " but found '!='"},
      // Like Calico, only spaces and tabs are blanks.
      {"a == \"x\"\n", "col 9: expected '&&', '||' or end of selector but found '\\x0a'"},
      {"\xff", "col 1: " + kTerm + " but found '\\xff'"},
      {std::string(513, 'k') + R"( == "x")", "col 1: label key is longer than 512 characters"},
      {"has(" + std::string(513, 'k') + ")", "col 5: label key is longer than 512 characters"},
  };
  return cases;
}

class ErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(ErrorTest, RejectsWithColumn) {
  const ErrorCase& c = GetParam();
  Result<Selector> sel = Selector::parse(c.text);
  ASSERT_FALSE(sel.isOk()) << "parsed as " << sel->canonical();
  EXPECT_EQ(sel.code(), ErrorCode::kInvalid);
  EXPECT_NE(sel.message().find(c.message), std::string::npos)
      << "message: " << sel.message() << "\nwanted:  " << c.message;
}

INSTANTIATE_TEST_SUITE_P(Table, ErrorTest, testing::ValuesIn(errorCases()));

// ---------------------------------------------------------------------------------------------
// Everything else.

TEST(SelectorTest, DefaultIsAll) {
  Selector sel;
  EXPECT_EQ(sel.canonical(), "all()");
  EXPECT_TRUE(sel.matches({}));
  EXPECT_TRUE(sel.labelKeys().empty());
  EXPECT_TRUE(sel == *Selector::parse(""));
}

TEST(SelectorTest, LabelKeysAreSortedAndUnique) {
  Result<Selector> sel =
      Selector::parse(R"(z == "1" && (has(a) || !m in {"x"}) && a != "2" || all())");
  ASSERT_TRUE(sel.isOk()) << sel.message();
  EXPECT_EQ(sel->labelKeys(), (std::vector<std::string>{"a", "m", "z"}));
}

TEST(SelectorTest, EquivalentSpellingsAreEqual) {
  Result<Selector> a = Selector::parse("a=='x'&&b=='y'");
  Result<Selector> b = Selector::parse(R"(  a == "x"   &&   b == "y" )");
  Result<Selector> c = Selector::parse(R"(b == "y" && a == "x")");
  ASSERT_TRUE(a.isOk() && b.isOk() && c.isOk());
  EXPECT_TRUE(*a == *b);
  EXPECT_FALSE(*a == *c);  // operand order is kept, as in Calico
}

TEST(SelectorTest, LongestLabelKeyIsAccepted) {
  std::string key(kMaxLabelLength, 'k');
  Result<Selector> sel = Selector::parse(key + R"( == "v")");
  ASSERT_TRUE(sel.isOk()) << sel.message();
  EXPECT_TRUE(sel->matches({{key, "v"}}));
}

// Built trees print as the parser prints the same text, so a built selector names the same
// ipset as its spelled-out twin.
TEST(SelectorBuildersTest, PrintAsTheParsedText) {
  std::vector<NodePtr> scoped;
  scoped.push_back(withPrefix(Selector::parse("a == 'x' && b in {'y'}")->root(), ""));
  scoped.push_back(labelEquals("ns", "n1"));
  EXPECT_EQ(Selector(allOf(std::move(scoped))).canonical(),
            Selector::parse(R"((a == "x" && b in {"y"}) && ns == "n1")")->canonical());
  EXPECT_EQ(Selector(negate(negate(hasLabel("a")))).canonical(), "has(a)");
  EXPECT_EQ(Selector(negate(hasLabel("a"))).canonical(), "!has(a)");
  EXPECT_EQ(Selector(labelEquals("a", "say \"hi\"")).canonical(), R"(a == 'say "hi"')");
  std::vector<NodePtr> one;
  one.push_back(hasLabel("a"));
  EXPECT_EQ(Selector(anyOf(std::move(one))).canonical(), "has(a)");
}

// withPrefix gives the tree the parser gives for the text with every key prefixed.
TEST(SelectorBuildersTest, WithPrefixMatchesPrefixedText) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"all()", "all()"},
      {"global()", "global()"},
      {"has(a)", "has(p.a)"},
      {"!has(a)", "!has(p.a)"},
      {R"(a != '"' || b contains "c")", R"(p.a != '"' || p.b contains "c")"},
      {"a starts with 'x' && !(b ends with 'y' || c notin {'z', 'w'})",
       "p.a starts with 'x' && !(p.b ends with 'y' || p.c notin {'w', 'z'})"},
      {"(a in {'x'} && b == 'y') && c == 'z'", "(p.a in {'x'} && p.b == 'y') && p.c == 'z'"},
      {"!(!has(a))", "has(p.a)"},
  };
  for (const auto& [text, prefixed] : cases) {
    Result<Selector> sel = Selector::parse(text);
    ASSERT_TRUE(sel.isOk()) << text;
    Selector built(withPrefix(sel->root(), "p."));
    EXPECT_EQ(built.canonical(), Selector::parse(prefixed)->canonical()) << text;
    EXPECT_EQ(Selector(withPrefix(sel->root(), "")).canonical(), sel->canonical()) << text;
  }
}

TEST(SelectorTest, NestingIsLimited) {
  auto nested = [](int depth) {
    return std::string(depth, '(') + "has(a)" + std::string(depth, ')');
  };
  Result<Selector> ok = Selector::parse(nested(kMaxNestingDepth));
  ASSERT_TRUE(ok.isOk()) << ok.message();
  EXPECT_EQ(ok->canonical(), "has(a)");
  Result<Selector> deep = Selector::parse(nested(kMaxNestingDepth + 1));
  ASSERT_FALSE(deep.isOk());
  EXPECT_NE(deep.message().find("col 101: parentheses nested deeper than 100 levels"),
            std::string::npos)
      << deep.message();
}

TEST(SelectorTest, ManyNegationsDoNotRecurse) {
  Result<Selector> sel = Selector::parse(std::string(100001, '!') + "has(a)");
  ASSERT_TRUE(sel.isOk()) << sel.message();
  EXPECT_EQ(sel->canonical(), "!has(a)");
}

TEST(SelectorTest, LongFlatExpressions) {
  std::string text = "k0 == \"v\"";
  for (int i = 1; i < 2000; ++i) text += " || k" + std::to_string(i) + " == \"v\"";
  Result<Selector> sel = Selector::parse(text);
  ASSERT_TRUE(sel.isOk()) << sel.message();
  EXPECT_TRUE(sel->matches({{"k1999", "v"}}));
  EXPECT_FALSE(sel->matches({{"k2000", "v"}}));
  EXPECT_EQ(sel->labelKeys().size(), 2000u);
}

TEST(SelectorTest, MatchingDoesNotAllocate) {
  Result<Selector> sel = Selector::parse(
      R"(app == "web" && tier in {"fe", "be", "x"} && !has(debug) && v starts with "1" || )"
      R"(projectcalico.org/namespace != "kube-system" || n contains "x" || n ends with "y")");
  ASSERT_TRUE(sel.isOk()) << sel.message();
  Labels labels = {{"app", "web"}, {"tier", "be"}, {"v", "1.2"}, {"n", "abc"}};
  long before = brindle::testutil::allocationCount();
  bool matched = false;
  for (int i = 0; i < 100; ++i) matched = sel->matches(labels) != matched;
  EXPECT_EQ(brindle::testutil::allocationCount() - before, 0);
  EXPECT_FALSE(matched);  // an even number of flips
}

TEST(SelectorTest, RootExposesTree) {
  Result<Selector> sel = Selector::parse(R"(a in {"y", "x"})");
  ASSERT_TRUE(sel.isOk());
  ASSERT_EQ(sel->root().kind(), NodeKind::kLabelSet);
  const auto& set = static_cast<const LabelSetNode&>(sel->root());
  EXPECT_EQ(set.key(), "a");
  EXPECT_EQ(set.op(), SetOp::kIn);
  EXPECT_EQ(set.values(), (std::vector<std::string>{"x", "y"}));
}

TEST(TokenizerTest, ColumnsAndKinds) {
  Result<std::vector<Token>> tokens = tokenize(R"(a not in {'x'} && has(b))");
  ASSERT_TRUE(tokens.isOk()) << tokens.message();
  std::vector<TokenKind> kinds;
  std::vector<std::size_t> cols;
  for (const Token& t : *tokens) {
    kinds.push_back(t.kind);
    cols.push_back(t.col);
  }
  EXPECT_EQ(kinds, (std::vector<TokenKind>{TokenKind::kLabel, TokenKind::kNotIn, TokenKind::kLBrace,
                                           TokenKind::kString, TokenKind::kRBrace, TokenKind::kAnd,
                                           TokenKind::kHas, TokenKind::kEnd}));
  EXPECT_EQ(cols, (std::vector<std::size_t>{1, 3, 10, 11, 14, 16, 19, 25}));
  EXPECT_EQ((*tokens)[3].text, "x");
  EXPECT_EQ((*tokens)[6].text, "b");
}

TEST(TokenizerTest, ValidLabelKeys) {
  EXPECT_TRUE(isValidLabelKey("projectcalico.org/namespace"));
  EXPECT_TRUE(isValidLabelKey("k8s-app"));
  EXPECT_FALSE(isValidLabelKey(""));
  EXPECT_FALSE(isValidLabelKey("a b"));
  EXPECT_FALSE(isValidLabelKey("a:b"));
  EXPECT_FALSE(isValidLabelKey(std::string(kMaxLabelLength + 1, 'a')));
}

}  // namespace
}  // namespace brindle::selector
