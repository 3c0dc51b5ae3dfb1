// The plan as an SVG drawing.
#include "plan/plan.h"

namespace brindle::plan {

std::string toSvg(const Plan& plan) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\"><title>" + plan.topology + "</title></svg>\n";
}

}  // namespace brindle::plan
