#pragma once
// Programs run from tests with a bound in time, and headless Chromium (Debian's `chromium`) for the
// report.html tests and bench: load a local file, let its scripts run, and read back the DOM, or
// save a screenshot. Every run is bounded in time and killed (with its whole process group) when it
// overruns.
#include <string>
#include <vector>

namespace infermem::test {

// The chromium binary on PATH ("" when it is not installed).
std::string find_chromium();

struct ProgramResult {
  int exit_code = -1;  // 128+signal when killed
  bool timed_out = false;
  std::string out, err;
  double wall_ms = 0;
};

// Runs argv[0] (a path) with argv, stdout and stderr captured, killed with its process group when
// it runs longer than timeout_s.
ProgramResult run_program(const std::vector<std::string>& argv, double timeout_s);

// The program's path on PATH ("" when it is not there).
std::string find_program(const std::string& name);

// chromium --headless with a throw-away profile, then `args`, the page's file:// URL last (with
// `#fragment` when one is given: report.html starts on its time axis with `x=time`).
ProgramResult run_headless(const std::string& chromium, const std::vector<std::string>& args,
                           const std::string& html_path, double timeout_s,
                           const std::string& fragment = "");

// The DOM after the page's load event and its handlers ("--dump-dom").
ProgramResult dump_dom(const std::string& chromium, const std::string& html_path, double timeout_s,
                       const std::string& fragment = "");

// A PNG of the page at width x height pixels.
ProgramResult screenshot(const std::string& chromium, const std::string& html_path,
                         const std::string& png_path, int width, int height, double timeout_s,
                         const std::string& fragment = "");

// The text of the element with this id in a dumped DOM, HTML entities decoded ("" when absent).
std::string element_text(const std::string& dom, const std::string& id);

}  // namespace infermem::test
