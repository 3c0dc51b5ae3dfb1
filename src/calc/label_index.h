// LabelIndex: which items (endpoints, network sets) each selector matches, kept incrementally.
// Items may inherit labels from parents (profiles' labelsToApply); a label change re-evaluates
// only the selectors that look at a changed key, a selector change only that selector.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/labels.h"
#include "selector/selector.h"

namespace brindle::calc {

class LabelIndex {
 public:
  // Called once when a selector starts/stops matching an item.
  using MatchCallback =
      std::function<void(const std::string& selectorId, const std::string& itemId)>;

  LabelIndex(MatchCallback onMatchStarted, MatchCallback onMatchStopped);

  void updateSelector(const std::string& id, const selector::Selector& sel);
  void deleteSelector(const std::string& id);

  // An item's own labels and its parents in order (an earlier parent wins on a clash; the
  // item's own labels win over all parents, as in Calico).
  void updateItem(const std::string& id, Labels labels, std::vector<std::string> parents);
  void deleteItem(const std::string& id);

  void updateParent(const std::string& id, Labels labels);
  void deleteParent(const std::string& id);

  // Current matches (for tests and for seeding new consumers).
  const std::set<std::string>& itemsMatching(const std::string& selectorId) const;
  bool hasItem(const std::string& id) const { return items_.count(id) > 0; }

 private:
  struct Item {
    Labels own;  // kept only while the item has parents (else `effective` is the same)
    std::vector<std::string> parents;
    Labels effective;
  };
  struct SelectorEntry {
    selector::Selector sel;
    std::set<std::string> matches;
  };

  Labels effectiveLabels(const Item& item) const;
  // Re-evaluates `item` against the selectors that look at any of `keys` (all if null).
  void reevaluate(const std::string& itemId, const Item& item, const std::set<std::string>* keys);
  void evaluate(const std::string& selId, SelectorEntry& entry, const std::string& itemId,
                const Labels& labels);
  void refreshItem(const std::string& id, Item& item, Labels newEffective);

  MatchCallback onStarted_;
  MatchCallback onStopped_;
  std::map<std::string, Item> items_;
  std::map<std::string, Labels> parents_;
  std::map<std::string, std::set<std::string>> childrenOfParent_;
  std::map<std::string, SelectorEntry> selectors_;
  // label key -> selectors that look at it; selectors with no keys (all()) never change.
  std::map<std::string, std::set<std::string>, std::less<>> selectorsByKey_;
};

}  // namespace brindle::calc
