// LabelIndex: incremental selector -> item matching over interned labels; see label_index.h.
// Selectors are indexed by the label they require (`app == 'x'` is only tried on items with
// app=x), so adding an item costs the few selectors that could match it, not all of them.
#include "calc/label_index.h"

#include <algorithm>

#include "selector/ast.h"

namespace brindle::calc {
namespace {

uint64_t pairKey(uint32_t key, uint32_t value) { return (uint64_t{key} << 32) | value; }

// True if the sorted id lists share an element.
bool intersects(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (*i == *j) return true;
    if (*i < *j) {
      ++i;
    } else {
      ++j;
    }
  }
  return false;
}

// Sorted id lists (an item's matching selectors: binary search even when there are many).
bool sortedHas(const std::vector<uint32_t>& v, uint32_t x) {
  return std::binary_search(v.begin(), v.end(), x);
}
void sortedInsert(std::vector<uint32_t>& v, uint32_t x) {
  v.insert(std::lower_bound(v.begin(), v.end(), x), x);
}
bool sortedErase(std::vector<uint32_t>& v, uint32_t x) {
  auto it = std::lower_bound(v.begin(), v.end(), x);
  if (it == v.end() || *it != x) return false;
  v.erase(it);
  return true;
}

// A free slot of `slots` (growing it when none is free).
template <typename Slots>
uint32_t takeSlot(std::vector<uint32_t>& free, Slots& slots) {
  if (free.empty()) {
    slots.emplace_back();
    return static_cast<uint32_t>(slots.size() - 1);
  }
  const uint32_t s = free.back();
  free.pop_back();
  return s;
}

template <typename T>
void eraseOne(std::vector<T>& v, const T& x) {
  auto it = std::find(v.begin(), v.end(), x);
  if (it == v.end()) return;
  *it = v.back();
  v.pop_back();
}

}  // namespace

LabelIndex::LabelIndex(MatchCallback onMatchStarted, MatchCallback onMatchStopped)
    : onStarted_(std::move(onMatchStarted)), onStopped_(std::move(onMatchStopped)) {}

LabelIndex::LabelVec LabelIndex::acquireLabels(const Labels& labels) {
  LabelVec out;
  out.reserve(labels.size());
  for (const auto& [k, v] : labels) out.emplace_back(strings_.acquire(k), strings_.acquire(v));
  std::sort(out.begin(), out.end());
  return out;
}

void LabelIndex::releaseLabels(const LabelVec& labels) {
  for (const auto& [k, v] : labels) {
    strings_.release(k);
    strings_.release(v);
  }
}

LabelIndex::Expr LabelIndex::compile(const selector::Node& node) {
  using selector::NodeKind;
  Expr e;
  switch (node.kind()) {
    case NodeKind::kAll:
    case NodeKind::kGlobal:
      e.op = Expr::Op::kTrue;
      break;
    case NodeKind::kHas:
      e.op = Expr::Op::kHas;
      e.key = strings_.acquire(static_cast<const selector::HasNode&>(node).key());
      break;
    case NodeKind::kLabelValue: {
      const auto& n = static_cast<const selector::LabelValueNode&>(node);
      // In selector::ValueOp's order.
      static constexpr Expr::Op kOps[] = {Expr::Op::kEq, Expr::Op::kNe, Expr::Op::kContains,
                                          Expr::Op::kStarts, Expr::Op::kEnds};
      e.op = kOps[static_cast<size_t>(n.op())];
      e.key = strings_.acquire(n.key());
      e.value = strings_.acquire(n.value());
      break;
    }
    case NodeKind::kLabelSet: {
      const auto& n = static_cast<const selector::LabelSetNode&>(node);
      e.op = n.op() == selector::SetOp::kIn ? Expr::Op::kIn : Expr::Op::kNotIn;
      e.key = strings_.acquire(n.key());
      for (const auto& v : n.values()) e.values.push_back(strings_.acquire(v));
      std::sort(e.values.begin(), e.values.end());
      break;
    }
    case NodeKind::kNot:
      e.op = Expr::Op::kNot;
      e.children.push_back(compile(static_cast<const selector::NotNode&>(node).operand()));
      break;
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      const auto& ops = selector::junctionOperands(node);
      e.op = node.kind() == NodeKind::kAnd ? Expr::Op::kAnd : Expr::Op::kOr;
      for (const auto& op : ops) e.children.push_back(compile(*op));
      break;
    }
  }
  return e;
}

void LabelIndex::releaseExpr(const Expr& e) {
  if (e.key != Interner::kNone) strings_.release(e.key);
  if (e.value != Interner::kNone) strings_.release(e.value);
  for (Id v : e.values) strings_.release(v);
  for (const auto& c : e.children) releaseExpr(c);
}

LabelIndex::Id LabelIndex::valueOf(const LabelVec& labels, Id key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
    if (k > key) break;
  }
  return Interner::kNone;
}

// The same semantics as selector::Node::evaluate (an absent label fails every comparison but
// `!=` and `not in`).
bool LabelIndex::matches(const Expr& e, const LabelVec& labels) const {
  using Op = Expr::Op;
  switch (e.op) {
    case Op::kTrue:
      return true;
    case Op::kHas:
      return valueOf(labels, e.key) != Interner::kNone;
    case Op::kEq:
      return valueOf(labels, e.key) == e.value;
    case Op::kNe:
      return valueOf(labels, e.key) != e.value;
    case Op::kContains:
    case Op::kStarts:
    case Op::kEnds: {
      Id v = valueOf(labels, e.key);
      if (v == Interner::kNone) return false;
      std::string_view actual = strings_.str(v);
      const std::string& want = strings_.str(e.value);
      if (e.op == Op::kContains) return actual.find(want) != std::string_view::npos;
      if (e.op == Op::kStarts) return actual.starts_with(want);
      return actual.ends_with(want);
    }
    case Op::kIn:
    case Op::kNotIn: {
      Id v = valueOf(labels, e.key);
      bool in = v != Interner::kNone && std::binary_search(e.values.begin(), e.values.end(), v);
      return e.op == Op::kIn ? in : !in;
    }
    case Op::kNot:
      return !matches(e.children[0], labels);
    case Op::kAnd:
      return std::ranges::all_of(e.children, [&](const auto& c) { return matches(c, labels); });
    case Op::kOr:
      return std::ranges::any_of(e.children, [&](const auto& c) { return matches(c, labels); });
  }
  return false;
}

bool LabelIndex::mayMatch(const SelectorEntry& s, const LabelVec& labels) const {
  if (s.reqKey == Interner::kNone) return true;
  Id v = valueOf(labels, s.reqKey);
  if (v == Interner::kNone) return false;
  return s.reqValue == Interner::kNone || v == s.reqValue;
}

void LabelIndex::indexSelector(Slot s) {
  SelectorEntry& entry = selectors_[s];
  // The requirement: a term every match must satisfy, at the top or in a top-level &&.
  entry.reqKey = entry.reqValue = Interner::kNone;
  auto consider = [&](const Expr& e) {
    using Op = Expr::Op;
    if (e.op == Op::kEq || (e.op == Op::kIn && e.values.size() == 1)) {
      if (entry.reqValue == Interner::kNone) {
        entry.reqKey = e.key;
        entry.reqValue = e.op == Op::kEq ? e.value : e.values[0];
      }
    } else if (e.op == Op::kHas || e.op == Op::kContains || e.op == Op::kStarts ||
               e.op == Op::kEnds || e.op == Op::kIn) {
      if (entry.reqKey == Interner::kNone) entry.reqKey = e.key;
    }
  };
  if (entry.expr.op == Expr::Op::kAnd) {
    for (const auto& c : entry.expr.children) consider(c);
  } else {
    consider(entry.expr);
  }
  if (entry.reqKey == Interner::kNone) {
    unindexed_.push_back(s);
  } else if (entry.reqValue == Interner::kNone) {
    byKey_[entry.reqKey].push_back(s);
  } else {
    byKeyValue_[pairKey(entry.reqKey, entry.reqValue)].push_back(s);
  }
}

void LabelIndex::unindexSelector(Slot s) {
  const SelectorEntry& entry = selectors_[s];
  if (entry.reqKey == Interner::kNone) {
    eraseOne(unindexed_, s);
  } else if (entry.reqValue == Interner::kNone) {
    auto it = byKey_.find(entry.reqKey);
    eraseOne(it->second, s);
    if (it->second.empty()) byKey_.erase(it);
  } else {
    auto it = byKeyValue_.find(pairKey(entry.reqKey, entry.reqValue));
    eraseOne(it->second, s);
    if (it->second.empty()) byKeyValue_.erase(it);
  }
}

void LabelIndex::evaluate(Slot sel, Slot itemSlot) {
  SelectorEntry& entry = selectors_[sel];
  Item& item = items_[itemSlot];
  bool now = matches(entry.expr, item.effective);
  bool was = sortedHas(item.matches, sel);
  if (now == was) return;
  if (now) {
    sortedInsert(item.matches, sel);
    onStarted_(*entry.name, *item.name);
  } else {
    sortedErase(item.matches, sel);
    onStopped_(*entry.name, *item.name);
  }
}

void LabelIndex::updateSelector(const std::string& id, const selector::Selector& sel) {
  auto [it, inserted] = selectorSlots_.try_emplace(id, 0);
  Slot s;
  if (inserted) {
    s = it->second = takeSlot(freeSelectors_, selectors_);
    selectors_[s].name = &it->first;
  } else {
    s = it->second;
    SelectorEntry& old = selectors_[s];
    if (old.canonical == sel.canonical()) return;
    unindexSelector(s);
    releaseExpr(old.expr);
    for (Id k : old.keys) strings_.release(k);
  }
  {
    SelectorEntry& entry = selectors_[s];
    entry.canonical = sel.canonical();
    entry.expr = compile(sel.root());
    entry.keys.clear();
    for (const auto& k : sel.labelKeys()) entry.keys.push_back(strings_.acquire(k));
    std::sort(entry.keys.begin(), entry.keys.end());
  }
  indexSelector(s);
  // Items it matched before, and items that have what it requires.
  for (Slot i = 0; i < items_.size(); ++i) {
    const Item& item = items_[i];
    if (item.name == nullptr) continue;
    if (mayMatch(selectors_[s], item.effective) || sortedHas(item.matches, s)) {
      evaluate(s, i);
    }
  }
}

void LabelIndex::deleteSelector(const std::string& id) {
  auto it = selectorSlots_.find(id);
  if (it == selectorSlots_.end()) return;
  Slot s = it->second;
  SelectorEntry& entry = selectors_[s];
  // Selectors go rarely: their matches are found on the items.
  for (Slot i = 0; i < items_.size(); ++i) {
    Item& item = items_[i];
    if (!sortedErase(item.matches, s)) continue;
    onStopped_(*entry.name, *item.name);
  }
  unindexSelector(s);
  releaseExpr(entry.expr);
  for (Id k : entry.keys) strings_.release(k);
  selectors_[s] = SelectorEntry{};
  freeSelectors_.push_back(s);
  selectorSlots_.erase(it);
}

LabelIndex::Parent& LabelIndex::parentEntry(Id name) {
  auto [it, inserted] = parents_.try_emplace(name);
  if (inserted) strings_.acquire(name);  // the entry holds its own reference to its name
  return it->second;
}

void LabelIndex::dropChild(Id parent, Slot child) {
  auto it = parents_.find(parent);
  if (it == parents_.end()) return;
  it->second.children.erase(child);
  if (!it->second.defined && it->second.children.empty()) {
    parents_.erase(it);
    strings_.release(parent);
  }
}

LabelIndex::LabelVec LabelIndex::effectiveLabels(const Item& item) {
  LabelVec out = item.inherited->own;
  for (Id p : item.inherited->parents) {
    auto it = parents_.find(p);
    if (it == parents_.end() || !it->second.defined) continue;
    for (const auto& kv : it->second.labels) {
      if (valueOf(out, kv.first) != Interner::kNone) continue;  // earlier / own wins
      out.insert(std::lower_bound(out.begin(), out.end(), kv), kv);
    }
  }
  for (const auto& [k, v] : out) {
    strings_.acquire(k);
    strings_.acquire(v);
  }
  return out;
}

void LabelIndex::refreshItem(Slot slot, LabelVec newEffective, bool isNew) {
  LabelVec old = std::move(items_[slot].effective);
  items_[slot].effective = std::move(newEffective);
  const LabelVec& now = items_[slot].effective;
  // The keys whose value changed (added, removed or different).
  std::vector<Id> changed;
  if (!isNew) {
    auto i = old.begin();
    auto j = now.begin();
    while (i != old.end() || j != now.end()) {
      if (j == now.end() || (i != old.end() && i->first < j->first)) {
        changed.push_back((i++)->first);
      } else if (i == old.end() || j->first < i->first) {
        changed.push_back((j++)->first);
      } else {
        if (i->second != j->second) changed.push_back(i->first);
        ++i;
        ++j;
      }
    }
    if (changed.empty()) {
      releaseLabels(old);
      return;
    }
  }
  // Candidates: what matches now, and what the new labels could match.
  std::vector<Slot> candidates = items_[slot].matches;
  candidates.insert(candidates.end(), unindexed_.begin(), unindexed_.end());
  for (const auto& [k, v] : now) {
    if (auto it = byKey_.find(k); it != byKey_.end()) {
      candidates.insert(candidates.end(), it->second.begin(), it->second.end());
    }
    if (auto it = byKeyValue_.find(pairKey(k, v)); it != byKeyValue_.end()) {
      candidates.insert(candidates.end(), it->second.begin(), it->second.end());
    }
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  for (Slot s : candidates) {
    if (!isNew && !intersects(selectors_[s].keys, changed)) continue;
    evaluate(s, slot);
  }
  releaseLabels(old);
}

uint32_t LabelIndex::itemSlot(const std::string& id) {
  auto [it, inserted] = itemSlots_.try_emplace(id, 0);
  if (!inserted) return it->second;
  const Slot slot = it->second = takeSlot(freeItems_, items_);
  items_[slot].name = &it->first;
  return slot;
}

void LabelIndex::updateItem(const std::string& id, const Labels& labels,
                            const std::vector<std::string>& parents) {
  const Slot slot = itemSlot(id);
  const bool isNew = !items_[slot].evaluated;
  items_[slot].evaluated = true;
  LabelVec own = acquireLabels(labels);
  std::vector<Id> newParents;
  newParents.reserve(parents.size());
  for (const auto& p : parents) {
    Id pid = strings_.acquire(p);
    newParents.push_back(pid);
    parentEntry(pid).children.insert(slot);
  }
  Item& item = items_[slot];
  std::unique_ptr<Inherited> old = std::move(item.inherited);
  LabelVec effective;
  if (newParents.empty()) {
    effective = std::move(own);  // own labels are only needed to re-merge parents
  } else {
    item.inherited.reset(new Inherited{std::move(own), std::move(newParents)});
    effective = effectiveLabels(item);
  }
  if (old) {
    for (Id p : old->parents) {
      const auto* now = item.inherited ? &item.inherited->parents : nullptr;
      if (!now || std::find(now->begin(), now->end(), p) == now->end()) dropChild(p, slot);
      strings_.release(p);
    }
    releaseLabels(old->own);
  }
  refreshItem(slot, std::move(effective), isNew);
}

void LabelIndex::deleteItem(const std::string& id) {
  auto it = itemSlots_.find(id);
  if (it == itemSlots_.end()) return;
  Slot slot = it->second;
  std::vector<Slot> matched = std::move(items_[slot].matches);
  items_[slot].matches.clear();
  for (Slot s : matched) onStopped_(*selectors_[s].name, *items_[slot].name);
  Item& item = items_[slot];
  if (item.inherited) {
    for (Id p : item.inherited->parents) {
      dropChild(p, slot);
      strings_.release(p);
    }
    releaseLabels(item.inherited->own);
  }
  releaseLabels(item.effective);
  items_[slot] = Item{};
  freeItems_.push_back(slot);
  itemSlots_.erase(it);
}

void LabelIndex::refreshChildren(Id parent) {
  auto it = parents_.find(parent);
  if (it == parents_.end()) return;
  std::vector<Slot> children(it->second.children.begin(), it->second.children.end());
  std::sort(children.begin(), children.end());
  for (Slot c : children) refreshItem(c, effectiveLabels(items_[c]), false);
}

void LabelIndex::updateParent(const std::string& id, const Labels& labels) {
  Id name = strings_.acquire(id);
  LabelVec next = acquireLabels(labels);
  Parent& p = parentEntry(name);
  strings_.release(name);
  if (p.defined && p.labels == next) {
    releaseLabels(next);
    return;
  }
  LabelVec old = std::move(p.labels);
  p.labels = std::move(next);
  p.defined = true;
  refreshChildren(name);
  releaseLabels(old);
}

void LabelIndex::deleteParent(const std::string& id) {
  Id name = strings_.find(id);
  if (name == Interner::kNone) return;
  auto it = parents_.find(name);
  if (it == parents_.end() || !it->second.defined) return;
  LabelVec old = std::move(it->second.labels);
  it->second.labels = LabelVec{};
  it->second.defined = false;
  refreshChildren(name);
  releaseLabels(old);
  it = parents_.find(name);
  if (it != parents_.end() && it->second.children.empty()) {
    parents_.erase(it);
    strings_.release(name);
  }
}

std::set<std::string> LabelIndex::itemsMatching(const std::string& selectorId) const {
  std::set<std::string> out;
  auto it = selectorSlots_.find(selectorId);
  if (it == selectorSlots_.end()) return out;
  for (const Item& item : items_) {
    if (item.name != nullptr && sortedHas(item.matches, it->second)) {
      out.insert(*item.name);
    }
  }
  return out;
}

}  // namespace brindle::calc
