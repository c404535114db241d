// JUnit XML for CI: one <testsuite>, one <testcase classname=subject name=check> per check;
// failures and skips carry the check's message. Text is escaped and made valid UTF-8 / XML 1.0.
#include <fmt/format.h>
#include <string>

#include "infermem/render.h"
#include "report/renderers.h"

namespace infermem {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], 0 when invalid.
std::size_t utf8_length(const std::string& s, std::size_t i) {
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

std::string xml_escape(const std::string& s) {
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

}  // namespace

std::string render_junit(const std::string& suite, const std::vector<CheckResult>& results) {
  std::size_t failures = 0, skipped = 0;
  for (const auto& r : results) {
    failures += !r.passed;
    skipped += r.passed && r.skipped;
  }
  std::string body;
  for (const auto& r : results) {
    body += fmt::format("    <testcase classname=\"{}\" name=\"{}\">\n", xml_escape(r.subject),
                        xml_escape(r.check));
    if (!r.passed)
      body += fmt::format("      <failure message=\"{0}\" type=\"memory\">{0}</failure>\n",
                          xml_escape(r.message));
    else if (r.skipped)
      body += fmt::format("      <skipped message=\"{}\"/>\n", xml_escape(r.message));
    else
      body += fmt::format("      <system-out>{}</system-out>\n", xml_escape(r.message));
    body += "    </testcase>\n";
  }
  std::string name = xml_escape(suite);
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"{0}\" tests=\"{1}\" failures=\"{2}\" errors=\"0\" skipped=\"{3}\">\n"
      "  <testsuite name=\"{0}\" tests=\"{1}\" failures=\"{2}\" errors=\"0\" skipped=\"{3}\">\n"
      "{4}"
      "  </testsuite>\n"
      "</testsuites>\n",
      name, results.size(), failures, skipped, body);
}

namespace report {

// Per arm, its gate checks, then one "run" case even without thresholds (the arm ran to the
// end, or how it did not), so CI always sees every arm.
std::string junit(const RunSummary& run) {
  std::vector<CheckResult> all;
  for (const auto& a : run.arms) {
    all.insert(all.end(), a.checks.begin(), a.checks.end());
    const bool ok = a.status == ArmStatus::ok;
    all.push_back({a.name, "run", ok,
                   ok ? fmt::format("arm {}: ok, {} requests, verdict {}", a.name, a.requests_done,
                                    a.verdict.kind)
                      : fmt::format("arm {}: {}: {}", a.name, name(a.status), a.status_detail)});
  }
  return render_junit("infermem soak", all);
}

}  // namespace report
}  // namespace infermem
