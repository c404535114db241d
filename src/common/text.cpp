#include "infermem/text.h"

#include <cctype>

namespace infermem {

std::string_view trim(std::string_view s) {
  // isspace() in the C locale, inline: trim runs on every cell of a multi-GB CSV.
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace infermem
