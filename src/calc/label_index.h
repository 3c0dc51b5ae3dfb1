// LabelIndex: which items (endpoints, network sets) each selector matches, kept incrementally.
// Items may inherit labels from parents (profiles' labelsToApply); a label change re-evaluates
// only the selectors that look at a changed key, a selector change only that selector.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "calc/interner.h"
#include "common/labels.h"
#include "selector/selector.h"

namespace brindle::calc {

class LabelIndex {
 public:
  // Called once when a selector starts/stops matching an item. The strings live in the index
  // (valid during the call); the callback must not call back into this index.
  using MatchCallback =
      std::function<void(const std::string& selectorId, const std::string& itemId)>;

  LabelIndex(MatchCallback onMatchStarted, MatchCallback onMatchStopped);

  void updateSelector(const std::string& id, const selector::Selector& sel);
  void deleteSelector(const std::string& id);

  // An item's own labels and its parents in order (an earlier parent wins on a clash; the
  // item's own labels win over all parents, as in Calico).
  void updateItem(const std::string& id, const Labels& labels,
                  const std::vector<std::string>& parents);
  void deleteItem(const std::string& id);

  void updateParent(const std::string& id, const Labels& labels);
  void deleteParent(const std::string& id);

  // Current matches (for tests and diagnostics).
  std::set<std::string> itemsMatching(const std::string& selectorId) const;

  // Items are numbered by small reusable slots, so callers can keep per-item data in a vector.
  // itemSlot() numbers an item before its first updateItem() (matching starts there); a slot
  // stays the item's until deleteItem(). findItemSlot(): kNoSlot if unknown.
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  uint32_t itemSlot(const std::string& id);
  uint32_t findItemSlot(const std::string& id) const {
    auto it = itemSlots_.find(id);
    return it == itemSlots_.end() ? kNoSlot : it->second;
  }
  // Calls fn(selectorId) for each selector matching item `itemId` now.
  template <typename F>
  void forEachMatchOf(const std::string& itemId, F fn) const {
    auto it = itemSlots_.find(itemId);
    if (it == itemSlots_.end()) return;
    for (Slot s : items_[it->second].matches) fn(*selectors_[s].name);
  }

 private:
  // Everything below is in interned ids: label keys, values and parent names share strings_.
  using Id = Interner::Id;
  using Slot = uint32_t;
  using LabelVec = std::vector<std::pair<Id, Id>>;  // (key, value), sorted by key, unique keys

  // A selector compiled against strings_, so evaluation compares integers.
  struct Expr {
    enum class Op : uint8_t {
      kTrue,
      kHas,
      kEq,
      kNe,
      kContains,
      kStarts,
      kEnds,
      kIn,
      kNotIn,
      kNot,
      kAnd,
      kOr
    };
    Op op = Op::kTrue;
    Id key = Interner::kNone;
    Id value = Interner::kNone;
    std::vector<Id> values;  // kIn / kNotIn
    std::vector<Expr> children;
  };
  // Only items with parents (rare) keep their own labels apart from the effective ones.
  struct Inherited {
    LabelVec own;
    std::vector<Id> parents;
  };
  struct Item {
    const std::string* name = nullptr;  // the key in itemSlots_; null while the slot is free
    std::unique_ptr<Inherited> inherited;
    LabelVec effective;
    std::vector<Slot> matches;  // selectors matching now, sorted
    bool evaluated = false;     // false until its first updateItem()
  };
  struct SelectorEntry {
    const std::string* name = nullptr;  // the key in selectorSlots_; null while free
    std::string canonical;
    Expr expr;
    std::vector<Id> keys;  // label keys it looks at, sorted
    // What an item needs to possibly match: a label (key, value), a key (value kNone), or
    // nothing (key kNone): the selector is then tried against every item.
    Id reqKey = Interner::kNone;
    Id reqValue = Interner::kNone;
    // Its matches are not kept here: each item lists the selectors matching it (a few), which
    // is all an item change needs; selector changes, rarer, scan the items.
  };
  struct Parent {
    bool defined = false;
    LabelVec labels;
    std::unordered_set<Slot> children;
  };

  LabelVec acquireLabels(const Labels& labels);
  void releaseLabels(const LabelVec& labels);
  Expr compile(const selector::Node& node);
  void releaseExpr(const Expr& e);
  static Id valueOf(const LabelVec& labels, Id key);
  bool matches(const Expr& e, const LabelVec& labels) const;
  bool mayMatch(const SelectorEntry& s, const LabelVec& labels) const;
  void indexSelector(Slot s);
  void unindexSelector(Slot s);
  LabelVec effectiveLabels(const Item& item);
  // Replaces `item`'s effective labels and re-evaluates what may have changed (all candidate
  // selectors when `isNew`).
  void refreshItem(Slot slot, LabelVec newEffective, bool isNew);
  void evaluate(Slot sel, Slot item);
  Parent& parentEntry(Id name);
  void dropChild(Id parent, Slot child);
  void refreshChildren(Id parent);

  MatchCallback onStarted_;
  MatchCallback onStopped_;
  Interner strings_;
  std::unordered_map<std::string, Slot> itemSlots_;
  std::deque<Item> items_;  // a deque: no spare capacity for 10,000s of items
  std::vector<Slot> freeItems_;
  std::unordered_map<std::string, Slot> selectorSlots_;
  std::vector<SelectorEntry> selectors_;
  std::vector<Slot> freeSelectors_;
  std::unordered_map<Id, Parent> parents_;  // defined, or named by some item
  // Selectors by what they require (see SelectorEntry).
  std::unordered_map<uint64_t, std::vector<Slot>> byKeyValue_;
  std::unordered_map<Id, std::vector<Slot>> byKey_;
  std::vector<Slot> unindexed_;
};

}  // namespace brindle::calc
