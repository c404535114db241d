#pragma once
// Small text helpers every stage uses, written once.
#include <string>
#include <string_view>

namespace infermem {

// Without leading and trailing whitespace (spaces, tabs, CR, LF, VT, FF).
std::string_view trim(std::string_view s);
// ASCII lower case.
std::string lower(std::string_view s);

}  // namespace infermem
