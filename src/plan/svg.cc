// The plan as an SVG drawing: a row of boxes per tier (core, reflectors, ToRs, nodes, outside
// peers), a line per session, each box labelled with its sessions and routes. A tier of more than
// kMaxBoxes devices is drawn as one box, and its lines as one labelled with the sessions it stands
// for, so a 10,000-node plan stays a small picture.
#include <algorithm>
#include <sstream>

#include "plan/plan.h"

namespace brindle::plan {
namespace {

constexpr size_t kMaxBoxes = 50;
constexpr int kBoxW = 110, kBoxH = 44, kGap = 16, kRowH = 150, kTop = 140, kMargin = 30;

// Which roles peer with which: the sessions of each topology (docs/plan.md), by role.
struct RoleLink {
  const char* a;
  const char* b;
  bool sameRack;  // only devices of the same rack (nodes and their ToR)
};

std::vector<RoleLink> roleLinks(const Plan& p) {
  const bool core = std::any_of(p.devices.begin(), p.devices.end(),
                                [](const Device& d) { return d.role == kCore; });
  const std::string& t = p.topology;
  std::vector<RoleLink> links = {{kNode, kPeer, false}};  // peers read from a datastore
  if (t == "mesh") links.push_back({kNode, kNode, false});
  if (t == "rr")
    links.insert(links.end(), {{kNode, kReflector, false}, {kReflector, kReflector, false}});
  if (t == "ecmp-fabric") links.push_back({kNode, kReflector, false});
  if (t == "as-per-rack" || t == "as-per-server" || t == "downward-default") {
    links.push_back({kNode, kTor, true});
    links.push_back(core ? RoleLink{kTor, kCore, false} : RoleLink{kTor, kTor, false});
  }
  return links;
}

bool linked(const RoleLink& l, const Device& x, const Device& y) {
  return (!l.sameRack || x.rack == y.rack) && &x != &y;
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

struct Tier {
  RoleSummary summary;
  std::vector<const Device*> devices;
  bool collapsed() const { return devices.size() > kMaxBoxes; }
  size_t boxes() const { return collapsed() ? 1 : devices.size(); }
  int y = 0;
  int x0 = 0;  // left edge of the first box
  int centre(size_t box) const { return x0 + static_cast<int>(box) * (kBoxW + kGap) + kBoxW / 2; }
};

// Sessions between two tiers under one role link, counted without visiting every pair.
int64_t sessionsBetween(const RoleLink& l, const Tier& a, const Tier& b) {
  if (&a == &b) return a.summary.devices * (a.summary.devices - 1) / 2;
  if (!l.sameRack) return a.summary.devices * b.summary.devices;
  std::vector<int64_t> perRack;
  for (const Device* d : b.devices) {
    if (d->rack >= static_cast<int>(perRack.size())) perRack.resize(d->rack + 1);
    ++perRack[d->rack];
  }
  int64_t n = 0;
  for (const Device* d : a.devices)
    n += d->rack < static_cast<int>(perRack.size()) ? perRack[d->rack] : 0;
  return n;
}

void box(std::ostream& o, int x, int y, const std::string& title, const std::string& detail) {
  o << "  <rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << kBoxW << "\" height=\"" << kBoxH
    << "\" rx=\"6\" fill=\"#eef3fb\" stroke=\"#34558b\"/>\n";
  o << "  <text x=\"" << x + kBoxW / 2 << "\" y=\"" << y + 18
    << "\" text-anchor=\"middle\" font-weight=\"bold\">" << escape(title) << "</text>\n";
  o << "  <text x=\"" << x + kBoxW / 2 << "\" y=\"" << y + 34 << "\" text-anchor=\"middle\">"
    << escape(detail) << "</text>\n";
}

void line(std::ostream& o, int x1, int y1, int x2, int y2) {
  o << "  <line x1=\"" << x1 << "\" y1=\"" << y1 << "\" x2=\"" << x2 << "\" y2=\"" << y2
    << "\" stroke=\"#8a9bb8\"/>\n";
}

// A session inside one tier: an arc above its row.
void arc(std::ostream& o, int x1, int x2, int y) {
  const int lift = std::min(kRowH - kBoxH - 20, 12 + std::abs(x2 - x1) / 8);
  o << "  <path d=\"M " << x1 << " " << y << " Q " << (x1 + x2) / 2 << " " << y - 2 * lift << " "
    << x2 << " " << y << "\" fill=\"none\" stroke=\"#8a9bb8\"/>\n";
}

void label(std::ostream& o, int x, int y, const std::string& text) {
  o << "  <text x=\"" << x << "\" y=\"" << y << "\" text-anchor=\"middle\" fill=\"#8a3b12\">"
    << escape(text) << "</text>\n";
}

}  // namespace

std::string toSvg(const Plan& plan) {
  std::vector<Tier> tiers;
  for (const auto& s : summarize(plan)) {
    Tier t{s, {}};
    for (const auto& d : plan.devices) {
      if (d.role == s.role) t.devices.push_back(&d);
    }
    tiers.push_back(std::move(t));
  }
  // Top to bottom: core, reflectors, ToRs, nodes, outside peers.
  auto rank = [](const std::string& role) {
    const std::vector<std::string> order = {kCore, kReflector, kTor, kNode, kPeer};
    return std::find(order.begin(), order.end(), role) - order.begin();
  };
  std::stable_sort(tiers.begin(), tiers.end(), [&](const Tier& a, const Tier& b) {
    return rank(a.summary.role) < rank(b.summary.role);
  });
  size_t widest = 1;
  for (const auto& t : tiers) widest = std::max(widest, t.boxes());
  const int width = std::max<int>(2 * kMargin + static_cast<int>(widest) * (kBoxW + kGap), 520);
  const int bottom =
      kTop + (static_cast<int>(std::max<size_t>(tiers.size(), 1)) - 1) * kRowH + kBoxH + kMargin;
  const int height = bottom + static_cast<int>(plan.warnings.size()) * 18 + kMargin;
  for (size_t i = 0; i < tiers.size(); ++i) {
    Tier& t = tiers[i];
    t.y = kTop + static_cast<int>(i) * kRowH;
    const int rowWidth = static_cast<int>(t.boxes()) * (kBoxW + kGap) - kGap;
    t.x0 = (width - rowWidth) / 2;
  }
  auto tierOf = [&](const std::string& role) -> Tier* {
    for (auto& t : tiers) {
      if (t.summary.role == role) return &t;
    }
    return nullptr;
  };

  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << " " << height
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  o << "  <title>" << escape(plan.topology) << "</title>\n";
  o << "  <text x=\"" << kMargin << "\" y=\"28\" font-size=\"15\" font-weight=\"bold\">"
    << escape(plan.topology) << ": " << plan.totalSessions << " BGP sessions, " << plan.blocks
    << " blocks</text>\n";

  for (const RoleLink& l : roleLinks(plan)) {
    Tier* a = tierOf(l.a);
    Tier* b = tierOf(l.b);
    if (!a || !b) continue;
    if (rank(a->summary.role) > rank(b->summary.role)) std::swap(a, b);  // a above b
    if (a->collapsed() || b->collapsed()) {
      const std::string n = "x " + std::to_string(sessionsBetween(l, *a, *b)) + " sessions";
      if (a == b) {
        arc(o, a->centre(0) - kBoxW / 2, a->centre(0) + kBoxW / 2, a->y);
        label(o, a->centre(0), a->y - 10, n);
        continue;
      }
      // One line from each box of the expanded tier (or the one box) to the collapsed one.
      const Tier& many = a->collapsed() && b->collapsed() ? *a : (a->collapsed() ? *b : *a);
      for (size_t i = 0; i < many.boxes(); ++i) {
        const int xa = a->collapsed() ? a->centre(0) : a->centre(i);
        const int xb = b->collapsed() ? b->centre(0) : b->centre(i);
        line(o, xa, a->y + kBoxH, xb, b->y);
      }
      label(o, (a->centre(0) + b->centre(0)) / 2 + 40, (a->y + kBoxH + b->y) / 2, n);
      continue;
    }
    for (size_t i = 0; i < a->devices.size(); ++i) {
      for (size_t j = a == b ? i + 1 : 0; j < b->devices.size(); ++j) {
        if (!linked(l, *a->devices[i], *b->devices[j])) continue;
        if (a == b) {
          arc(o, a->centre(i), a->centre(j), a->y);
        } else {
          line(o, a->centre(i), a->y + kBoxH, b->centre(j), b->y);
        }
      }
    }
  }

  for (const Tier& t : tiers) {
    const RoleSummary& s = t.summary;
    if (t.collapsed()) {
      box(o, t.x0, t.y, s.role + " x " + std::to_string(s.devices),
          s.sessionsText() + " sess, " + s.routesText() + " routes");
      continue;
    }
    for (size_t i = 0; i < t.devices.size(); ++i) {
      const Device& d = *t.devices[i];
      box(o, t.centre(i) - kBoxW / 2, t.y, d.name,
          std::to_string(d.sessions) + " sess, " + std::to_string(d.routes) + " routes");
    }
  }
  int y = bottom;
  for (const auto& w : plan.warnings) {
    o << "  <text x=\"" << kMargin << "\" y=\"" << y << "\" fill=\"#b00020\">Warning: " << escape(w)
      << "</text>\n";
    y += 18;
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace brindle::plan
