// JUnit XML for CI: one <testsuite>, one <testcase classname=subject name=check> per check;
// failures and skips carry the check's message. Text is escaped and made valid UTF-8 / XML 1.0.
#include <fmt/format.h>
#include <string>

#include "infermem/render.h"
#include "report/renderers.h"

namespace infermem {

std::string render_junit(const std::string& suite, const std::vector<CheckResult>& results) {
  std::size_t failures = 0, skipped = 0;
  for (const auto& r : results) {
    failures += !r.passed;
    skipped += r.passed && r.skipped;
  }
  std::string body;
  for (const auto& r : results) {
    body += fmt::format("    <testcase classname=\"{}\" name=\"{}\">\n",
                        report::markup_escape(r.subject), report::markup_escape(r.check));
    if (!r.passed)
      body += fmt::format("      <failure message=\"{0}\" type=\"memory\">{0}</failure>\n",
                          report::markup_escape(r.message));
    else if (r.skipped)
      body += fmt::format("      <skipped message=\"{}\"/>\n", report::markup_escape(r.message));
    else
      body += fmt::format("      <system-out>{}</system-out>\n", report::markup_escape(r.message));
    body += "    </testcase>\n";
  }
  std::string name = report::markup_escape(suite);
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
