// Text into XML and HTML (junit.xml, report.html): markup characters escaped, the result valid
// UTF-8 and XML 1.0 (a byte that is not UTF-8, or a control character XML forbids, becomes U+FFFD).
#include <string>
#include <string_view>

#include "report/renderers.h"

namespace infermem::report {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], 0 when invalid.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t length = c < 0x80           ? 1
                       : (c >> 5) == 0x6  ? 2
                       : (c >> 4) == 0xE  ? 3
                       : (c >> 3) == 0x1E ? 4
                                          : 0;
  if (length == 0 || i + length > s.size()) return 0;
  for (std::size_t k = 1; k < length; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  if (length == 2 && c < 0xC2) return 0;                          // overlong
  if (length == 3 && c == 0xE0 && byte(i + 1) < 0xA0) return 0;   // overlong
  if (length == 3 && c == 0xED && byte(i + 1) >= 0xA0) return 0;  // surrogates
  if (length == 4 &&
      (c > 0xF4 || (c == 0xF0 && byte(i + 1) < 0x90) || (c == 0xF4 && byte(i + 1) >= 0x90)))
    return 0;
  return length;
}

}  // namespace

std::string markup_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t length = utf8_length(s, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
      ++i;
      continue;
    }
    if (length > 1) {
      out.append(s, i, length);
      i += length;
      continue;
    }
    char c = s[i++];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
          out += "\xEF\xBF\xBD";  // not allowed in XML 1.0
        else
          out += c;
    }
  }
  return out;
}

}  // namespace infermem::report
