// Printing explain's paths; see report.h.
#include "explain/report.h"

namespace brindle::explain {
namespace {

void printSide(std::ostream& out, const char* title, const Side& side) {
  out << title << " of " << side.endpoint << ":";
  if (!side.evaluated) {
    out << " " << (side.skipped.empty() ? "not policed" : side.skipped);
    if (side.decision.kind != Decision::Kind::kNotPoliced) out << ": " << side.decision.text();
    out << "\n";
    return;
  }
  out << "\n";
  if (side.steps.empty()) out << "  no policy or profile applies\n";
  for (const auto& s : side.steps) {
    out << "  " << (s.profile ? "profile " : "policy ") << s.name;
    if (!s.profile) out << " (tier " << s.tier << ")";
    out << " [" << s.chain << "]: " << s.outcome << "\n";
    for (const auto& r : s.rules) {
      out << "    rule " << r.index << " " << (r.matched ? "matched" : "no match") << ": " << r.text
          << "\n      " << r.reason << "\n";
      if (!r.dead.empty()) out << "      " << r.dead << "\n";
    }
  }
  out << "  decided by: " << side.decision.text() << " -> "
      << (side.decision.allowed ? "allowed" : "denied") << "\n";
}

model::Json sideJson(const Side& side) {
  model::Json j;
  j["endpoint"] = side.endpoint;
  j["node"] = side.node;
  j["evaluated"] = side.evaluated;
  if (!side.skipped.empty()) j["skipped"] = side.skipped;
  j["steps"] = model::Json::array();
  for (const auto& s : side.steps) {
    model::Json step{{"kind", s.profile ? "profile" : "policy"}, {"name", s.name}};
    if (!s.profile) step["tier"] = s.tier;
    step["chain"] = s.chain;
    step["outcome"] = s.outcome;
    step["rules"] = model::Json::array();
    for (const auto& r : s.rules) {
      model::Json rule{{"index", r.index},
                       {"rule", r.text},
                       {"action", std::string(model::actionName(r.action))},
                       {"matched", r.matched},
                       {"reason", r.reason}};
      if (!r.dead.empty()) rule["dead"] = r.dead;
      step["rules"].push_back(std::move(rule));
    }
    j["steps"].push_back(std::move(step));
  }
  const Decision& d = side.decision;
  static const char* kKinds[] = {"rule", "end-of-tier", "no-profile", "not-policed"};
  model::Json dj{
      {"kind", kKinds[static_cast<int>(d.kind)]}, {"allowed", d.allowed}, {"text", d.text()}};
  if (d.kind == Decision::Kind::kRule) {
    dj[d.profile ? "profile" : "policy"] = d.policy;
    if (!d.profile) dj["tier"] = d.tier;
    dj["rule"] = d.rule;
    dj["action"] = std::string(model::actionName(d.action));
  }
  if (d.kind == Decision::Kind::kEndOfTier) dj["tier"] = d.tier;
  if (!d.chain.empty()) dj["chain"] = d.chain;
  j["decision"] = std::move(dj);
  return j;
}

model::Json liveDecisionJson(const LiveDecision& d) {
  if (!d.found) return nullptr;
  return {{"allowed", d.allowed}, {"chain", d.chain}, {"rule", d.index}, {"id", d.hash}};
}

const char* verdictText(LiveWalk::Verdict v) {
  switch (v) {
    case LiveWalk::Verdict::kAccept:
      return "accepted";
    case LiveWalk::Verdict::kDrop:
      return "dropped";
    case LiveWalk::Verdict::kCannotEvaluate:
      return "cannot evaluate";
  }
  return "";
}

}  // namespace

void printModelPath(std::ostream& out, const ModelPath& path) {
  out << "packet: " << path.from << " -> " << path.to << " " << path.packet.text();
  if (path.source && path.destination) {
    out << " (" << path.source->toString() << " -> " << path.destination->toString() << ")";
  }
  out << "\n";
  printSide(out, "egress", path.egress);
  printSide(out, "ingress", path.ingress);
  for (const auto& n : path.notes) out << "note: " << n << "\n";
  out << "verdict: " << (path.allowed ? "allowed" : "denied") << "\n";
}

void printLivePath(std::ostream& out, const LivePath& path) {
  for (const auto& w : path.walks) {
    out << "kernel of node " << w.node << ":\n";
    for (const auto& s : w.steps) {
      out << std::string(2 + 2 * s.depth, ' ') << s.chain << " rule " << s.index;
      if (!s.hash.empty()) out << " (cali:" << s.hash << ")";
      out << (s.matched ? " matched" : " no match");
      if (!s.note.empty()) out << ": " << s.note;
      for (const auto* d : {&w.egress, &w.ingress}) {
        if (d->found && d->chain == s.chain && d->index == s.index) {
          out << "   <= decides " << (d == &w.egress ? "egress" : "ingress");
        }
      }
      out << "\n";
    }
    out << "  -> " << verdictText(w.verdict);
    if (!w.reason.empty()) out << " (" << w.reason << ")";
    out << "\n";
  }
  for (const auto& n : path.notes) out << "note: " << n << "\n";
  if (path.cannotEvaluate) {
    out << "live verdict: cannot evaluate\n";
    return;
  }
  out << "live verdict: " << (path.allowed ? "allowed" : "denied") << "\n";
  for (const auto& m : path.mismatches) out << "MISMATCH (bug): " << m << "\n";
}

model::Json modelPathJson(const ModelPath& path) {
  model::Json j;
  j["from"] = path.from;
  j["to"] = path.to;
  j["source"] = path.source ? model::Json(path.source->toString()) : model::Json();
  j["destination"] = path.destination ? model::Json(path.destination->toString()) : model::Json();
  j["protocol"] = path.packet.text();
  j["egress"] = sideJson(path.egress);
  j["ingress"] = sideJson(path.ingress);
  j["notes"] = path.notes;
  j["verdict"] = path.allowed ? "allowed" : "denied";
  return j;
}

model::Json livePathJson(const LivePath& path) {
  model::Json j;
  j["walks"] = model::Json::array();
  for (const auto& w : path.walks) {
    model::Json walk{{"node", w.node}, {"verdict", verdictText(w.verdict)}};
    if (!w.reason.empty()) walk["reason"] = w.reason;
    walk["steps"] = model::Json::array();
    for (const auto& s : w.steps) {
      model::Json step{{"chain", s.chain}, {"rule", s.index}, {"matched", s.matched}};
      if (!s.hash.empty()) step["id"] = s.hash;
      if (!s.note.empty()) step["note"] = s.note;
      walk["steps"].push_back(std::move(step));
    }
    walk["egress"] = liveDecisionJson(w.egress);
    walk["ingress"] = liveDecisionJson(w.ingress);
    j["walks"].push_back(std::move(walk));
  }
  j["verdict"] = path.cannotEvaluate ? "cannot evaluate" : (path.allowed ? "allowed" : "denied");
  j["mismatches"] = path.mismatches;
  j["notes"] = path.notes;
  return j;
}

}  // namespace brindle::explain
