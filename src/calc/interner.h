// Interner: one copy of each distinct string (label keys and values, names), referred to by a
// small integer id and reference-counted, so per-item state is a few integers, not strings.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace brindle::calc {

class Interner {
 public:
  using Id = uint32_t;
  static constexpr Id kNone = UINT32_MAX;

  // The id of `text`, taking one reference (the string is stored on first use).
  Id acquire(std::string_view text) {
    auto it = ids_.find(text);
    if (it != ids_.end()) {
      ++entries_[it->second].refs;
      return it->second;
    }
    Id id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
      entries_[id].text.assign(text);
    } else {
      id = static_cast<Id>(entries_.size());
      entries_.push_back(Entry{std::string(text), 0});
    }
    entries_[id].refs = 1;
    ids_.emplace(entries_[id].text, id);
    return id;
  }
  void acquire(Id id) { ++entries_[id].refs; }
  // Drops one reference; the last one frees the string (its id may then be reused).
  void release(Id id) {
    Entry& e = entries_[id];
    if (--e.refs > 0) return;
    ids_.erase(e.text);
    e.text.clear();
    e.text.shrink_to_fit();
    free_.push_back(id);
  }
  // kNone if `text` is not interned (so nothing that holds a reference uses it).
  Id find(std::string_view text) const {
    auto it = ids_.find(text);
    return it == ids_.end() ? kNone : it->second;
  }
  const std::string& str(Id id) const { return entries_[id].text; }

 private:
  struct Entry {
    std::string text;
    uint32_t refs;
  };
  std::deque<Entry> entries_;  // a deque: push_back keeps the strings the map views in place
  std::vector<Id> free_;
  std::unordered_map<std::string_view, Id> ids_;
};

}  // namespace brindle::calc
