// LabelIndex: incremental selector -> item matching; see label_index.h.
#include "calc/label_index.h"

namespace brindle::calc {

LabelIndex::LabelIndex(MatchCallback onMatchStarted, MatchCallback onMatchStopped)
    : onStarted_(std::move(onMatchStarted)), onStopped_(std::move(onMatchStopped)) {}

void LabelIndex::updateSelector(const std::string& id, const selector::Selector& sel) {
  auto it = selectors_.find(id);
  if (it != selectors_.end()) {
    if (it->second.sel == sel) return;
    for (const auto& key : it->second.sel.labelKeys()) selectorsByKey_[key].erase(id);
    it->second.sel = sel;
  } else {
    it = selectors_.emplace(id, SelectorEntry{sel, {}}).first;
  }
  for (const auto& key : sel.labelKeys()) selectorsByKey_[key].insert(id);
  for (const auto& [itemId, item] : items_) evaluate(id, it->second, itemId, item.effective);
}

void LabelIndex::deleteSelector(const std::string& id) {
  auto it = selectors_.find(id);
  if (it == selectors_.end()) return;
  for (const auto& key : it->second.sel.labelKeys()) {
    auto k = selectorsByKey_.find(key);
    if (k == selectorsByKey_.end()) continue;
    k->second.erase(id);
    if (k->second.empty()) selectorsByKey_.erase(k);
  }
  std::set<std::string> matches = std::move(it->second.matches);
  selectors_.erase(it);
  for (const auto& itemId : matches) onStopped_(id, itemId);
}

void LabelIndex::evaluate(const std::string& selId, SelectorEntry& entry, const std::string& itemId,
                          const Labels& labels) {
  bool now = entry.sel.matches(labels);
  bool was = entry.matches.count(itemId) > 0;
  if (now == was) return;
  if (now) {
    entry.matches.insert(itemId);
    onStarted_(selId, itemId);
  } else {
    entry.matches.erase(itemId);
    onStopped_(selId, itemId);
  }
}

Labels LabelIndex::effectiveLabels(const Item& item) const {
  Labels out = item.own;
  for (const auto& parent : item.parents) {
    auto p = parents_.find(parent);
    if (p == parents_.end()) continue;
    for (const auto& [k, v] : p->second) out.emplace(k, v);  // emplace: earlier wins
  }
  return out;
}

void LabelIndex::reevaluate(const std::string& itemId, const Item& item,
                            const std::set<std::string>* keys) {
  if (keys == nullptr) {
    for (auto& [selId, entry] : selectors_) evaluate(selId, entry, itemId, item.effective);
    return;
  }
  std::set<std::string> touched;
  for (const auto& key : *keys) {
    auto k = selectorsByKey_.find(key);
    if (k != selectorsByKey_.end()) touched.insert(k->second.begin(), k->second.end());
  }
  for (const auto& selId : touched) evaluate(selId, selectors_.at(selId), itemId, item.effective);
}

void LabelIndex::refreshItem(const std::string& id, Item& item, Labels newEffective) {
  // The keys whose value changed (added, removed or different).
  std::set<std::string> changed;
  for (const auto& [k, v] : newEffective) {
    auto old = item.effective.find(k);
    if (old == item.effective.end() || old->second != v) changed.insert(k);
  }
  for (const auto& [k, v] : item.effective) {
    if (!newEffective.count(k)) changed.insert(k);
  }
  item.effective = std::move(newEffective);
  if (!changed.empty()) reevaluate(id, item, &changed);
}

void LabelIndex::updateItem(const std::string& id, Labels labels,
                            std::vector<std::string> parents) {
  auto it = items_.find(id);
  if (it == items_.end()) {
    Item item{std::move(labels), std::move(parents), {}};
    for (const auto& p : item.parents) childrenOfParent_[p].insert(id);
    if (item.parents.empty()) {
      item.effective = std::move(item.own);  // own labels are only needed to re-merge parents
      item.own.clear();
    } else {
      item.effective = effectiveLabels(item);
    }
    it = items_.emplace(id, std::move(item)).first;
    reevaluate(id, it->second, nullptr);
    return;
  }
  Item& item = it->second;
  for (const auto& p : item.parents) childrenOfParent_[p].erase(id);
  item.own = std::move(labels);
  item.parents = std::move(parents);
  for (const auto& p : item.parents) childrenOfParent_[p].insert(id);
  refreshItem(id, item, effectiveLabels(item));
  if (item.parents.empty()) item.own.clear();
}

void LabelIndex::deleteItem(const std::string& id) {
  auto it = items_.find(id);
  if (it == items_.end()) return;
  for (const auto& p : it->second.parents) {
    auto c = childrenOfParent_.find(p);
    if (c == childrenOfParent_.end()) continue;
    c->second.erase(id);
    if (c->second.empty()) childrenOfParent_.erase(c);
  }
  items_.erase(it);
  for (auto& [selId, entry] : selectors_) {
    if (entry.matches.erase(id)) onStopped_(selId, id);
  }
}

void LabelIndex::updateParent(const std::string& id, Labels labels) {
  auto p = parents_.find(id);
  if (p != parents_.end() && p->second == labels) return;
  parents_[id] = std::move(labels);
  auto c = childrenOfParent_.find(id);
  if (c == childrenOfParent_.end()) return;
  for (const auto& childId : std::set<std::string>(c->second)) {
    Item& item = items_.at(childId);
    refreshItem(childId, item, effectiveLabels(item));
  }
}

void LabelIndex::deleteParent(const std::string& id) {
  if (!parents_.erase(id)) return;
  auto c = childrenOfParent_.find(id);
  if (c == childrenOfParent_.end()) return;
  for (const auto& childId : std::set<std::string>(c->second)) {
    Item& item = items_.at(childId);
    refreshItem(childId, item, effectiveLabels(item));
  }
}

const std::set<std::string>& LabelIndex::itemsMatching(const std::string& selectorId) const {
  static const std::set<std::string> kEmpty;
  auto it = selectors_.find(selectorId);
  return it == selectors_.end() ? kEmpty : it->second.matches;
}

}  // namespace brindle::calc
