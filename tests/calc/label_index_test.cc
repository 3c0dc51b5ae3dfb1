// Tests of LabelIndex: matching, parent inheritance, and that changes touch only what they must.
#include "calc/label_index.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace brindle::calc {
namespace {

struct Recorder {
  std::set<std::pair<std::string, std::string>> matches;
  int events = 0;
  LabelIndex index{[this](const std::string& s, const std::string& i) {
                     ++events;
                     matches.insert({s, i});
                   },
                   [this](const std::string& s, const std::string& i) {
                     ++events;
                     matches.erase({s, i});
                   }};
};

selector::Selector sel(const char* text) { return *selector::Selector::parse(text); }

TEST(LabelIndex, MatchesAndUnmatches) {
  Recorder r;
  r.index.updateSelector("db", sel("role == 'db'"));
  r.index.updateItem("a", {{"role", "db"}}, {});
  r.index.updateItem("b", {{"role", "web"}}, {});
  EXPECT_EQ(r.matches, (std::set<std::pair<std::string, std::string>>{{"db", "a"}}));
  r.index.updateItem("b", {{"role", "db"}}, {});
  EXPECT_EQ(r.matches.size(), 2u);
  r.index.deleteItem("a");
  EXPECT_EQ(r.matches, (std::set<std::pair<std::string, std::string>>{{"db", "b"}}));
  r.index.deleteSelector("db");
  EXPECT_TRUE(r.matches.empty());
}

TEST(LabelIndex, ParentLabelsInheritedOwnLabelsWin) {
  Recorder r;
  r.index.updateSelector("db", sel("role == 'db'"));
  r.index.updateItem("a", {}, {"prof"});
  EXPECT_TRUE(r.matches.empty());
  r.index.updateParent("prof", {{"role", "db"}});
  EXPECT_EQ(r.matches.size(), 1u);
  r.index.updateItem("a", {{"role", "web"}}, {"prof"});  // own label overrides the profile's
  EXPECT_TRUE(r.matches.empty());
  r.index.updateItem("a", {}, {"prof"});
  EXPECT_EQ(r.matches.size(), 1u);
  r.index.deleteParent("prof");
  EXPECT_TRUE(r.matches.empty());
}

TEST(LabelIndex, UnrelatedLabelChangeEvaluatesNothing) {
  Recorder r;
  r.index.updateSelector("db", sel("role == 'db'"));
  r.index.updateSelector("all", sel("all()"));
  r.index.updateItem("a", {{"role", "db"}, {"x", "1"}}, {});
  int before = r.events;
  r.index.updateItem("a", {{"role", "db"}, {"x", "2"}}, {});  // "x" is in no selector
  EXPECT_EQ(r.events, before);
  r.index.updateItem("a", {{"role", "web"}, {"x", "2"}}, {});
  EXPECT_EQ(r.events, before + 1);  // only "db" stopped; all() untouched
}

TEST(LabelIndex, SelectorChangeReevaluates) {
  Recorder r;
  r.index.updateItem("a", {{"role", "db"}}, {});
  r.index.updateItem("b", {{"role", "web"}}, {});
  r.index.updateSelector("s", sel("role == 'db'"));
  r.index.updateSelector("s", sel("role == 'web'"));
  EXPECT_EQ(r.matches, (std::set<std::pair<std::string, std::string>>{{"s", "b"}}));
  EXPECT_EQ(r.index.itemsMatching("s"), (std::set<std::string>{"b"}));
}

TEST(LabelIndex, SlotsAndSelectorsAreReusedCleanly) {
  Recorder r;
  using Pairs = std::set<std::pair<std::string, std::string>>;
  r.index.updateSelector("db", sel("role == 'db'"));
  r.index.updateSelector("all", sel("all()"));
  r.index.updateSelector("has", sel("has(role) && tier in {'1'}"));
  r.index.updateItem("a", {{"role", "db"}}, {});
  r.index.updateItem("b", {{"role", "db"}, {"tier", "1"}}, {});
  r.index.deleteItem("a");
  r.index.updateItem("c", {{"role", "web"}}, {});  // takes a's slot
  EXPECT_EQ(r.matches, (Pairs{{"db", "b"}, {"all", "b"}, {"has", "b"}, {"all", "c"}}));
  r.index.deleteSelector("db");
  EXPECT_EQ(r.matches, (Pairs{{"all", "b"}, {"has", "b"}, {"all", "c"}}));
  r.index.updateSelector("web", sel("role == 'web'"));  // takes db's slot
  EXPECT_EQ(r.index.itemsMatching("web"), (std::set<std::string>{"c"}));
  EXPECT_EQ(r.index.itemsMatching("db"), (std::set<std::string>{}));
  r.index.updateItem("c", {{"role", "web"}, {"tier", "1"}}, {});
  EXPECT_EQ(r.index.itemsMatching("has"), (std::set<std::string>{"b", "c"}));
  r.index.deleteItem("b");
  r.index.deleteItem("c");
  EXPECT_TRUE(r.matches.empty());
}

}  // namespace
}  // namespace brindle::calc
