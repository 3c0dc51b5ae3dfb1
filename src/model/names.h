// Name grammars (Kubernetes/Calico): DNS labels and subdomains, label keys and values, interface
// names, MACs. Hand-written because std::regex costs microseconds per match and validation runs
// these for every resource of a 10,000-endpoint apply.
#pragma once

#include <string>
#include <string_view>

namespace brindle::model {

// [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters.
bool isDnsLabel(std::string_view s);
// DNS labels joined by '.', at most 253 characters.
bool isDnsSubdomain(std::string_view s);
// A label key: [prefix/]name, prefix a DNS subdomain, name ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
// of at most 63 characters.
bool isQualifiedName(std::string_view s);
// A label value: empty, or like a qualified name's name part.
bool isLabelValue(std::string_view s);
// 1-15 of [a-zA-Z0-9_.-].
bool isInterfaceName(std::string_view s);
// Six hex byte pairs separated by ':' (or all by '-').
bool isMacAddress(std::string_view s);
// [a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?
bool isContainerId(std::string_view s);

// Folds case and drops '-'/'_', so that a near miss meets the name it meant: "nat-outgoing" and
// "natOutgoing", "cross-subnet" and "CrossSubnet" (for "did you mean" hints and v1's loose keys).
std::string looseKey(std::string_view s);

}  // namespace brindle::model
