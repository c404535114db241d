// infermem diff BASE_RUN NEW_RUN: compare two soak runs arm by arm; exit 1 on a regression.
#include <fmt/format.h>
#include <cmath>
#include <memory>

#include "cli/command.h"
#include "infermem/error.h"
#include "infermem/run_diff.h"
#include "infermem/units.h"

namespace infermem::cli {
namespace {

struct DiffFlags {
  std::string base, next, max_regression = "10%", floor = "4MiB";
  bool json = false;
};

double parse_fraction(const std::string& text) {
  std::string t = text;
  bool pct = !t.empty() && t.back() == '%';
  if (pct) t.pop_back();
  try {
    std::size_t used = 0;
    double v = std::stod(t, &used);
    if (used == t.size() && v >= 0 && std::isfinite(v)) return pct ? v / 100.0 : v;
  } catch (...) {
  }
  throw InputError(fmt::format("--max-regression {}: expected a percentage like 10%", text));
}

std::string shown(const FigureDiff& f, double v) {
  if (!present(v)) return "-";
  return f.memory ? format_mib(v) : fmt::format("{:.2f}", v);
}

int run(const DiffFlags& flags) {
  DiffOptions o;
  o.max_regression_fraction = parse_fraction(flags.max_regression);
  o.floor_bytes = static_cast<double>(parse_size(flags.floor, "--floor"));
  RunSummary base = RunSummary::load(flags.base), next = RunSummary::load(flags.next);
  RunDiff d = diff_runs(base, next, o);
  if (flags.json) {
    auto arr = nlohmann::json::array();
    for (const auto& f : d.figures)
      arr.push_back({{"arm", f.arm},
                     {"figure", f.figure},
                     {"base", present(f.base) ? nlohmann::json(f.base) : nlohmann::json(nullptr)},
                     {"new", present(f.next) ? nlohmann::json(f.next) : nlohmann::json(nullptr)},
                     {"regressed", f.regressed}});
    fmt::print("{}\n", nlohmann::json{{"figures", arr},
                                      {"only_in_base", d.only_in_base},
                                      {"only_in_new", d.only_in_new},
                                      {"regressed", d.regressed()}}
                           .dump(2));
  } else {
    fmt::print("{:<16} {:<26} {:>10} {:>10} {:>10}\n", "arm", "figure", "base", "new", "change");
    for (const auto& f : d.figures) {
      std::string change = "-";
      if (present(f.base) && present(f.next) && f.base != 0)
        change = fmt::format("{:+.1f}%", 100.0 * (f.next - f.base) / std::fabs(f.base));
      fmt::print("{:<16} {:<26} {:>10} {:>10} {:>10}{}\n", f.arm,
                 f.memory ? f.figure + " (MiB)" : f.figure, shown(f, f.base), shown(f, f.next),
                 change, f.regressed ? "  REGRESSED" : "");
    }
    for (const auto& a : d.only_in_base) fmt::print("arm {} is only in {}\n", a, flags.base);
    for (const auto& a : d.only_in_new) fmt::print("arm {} is only in {}\n", a, flags.next);
  }
  if (d.regressed()) {
    for (const auto& f : d.figures)
      if (f.regressed)
        fmt::print(stderr, "infermem: regression: {} {} {} -> {} (more than {} and {})\n", f.arm,
                   f.figure, format_bytes(f.base), format_bytes(f.next), flags.max_regression,
                   flags.floor);
    return kExitCheckFailed;
  }
  return kExitOk;
}

void attach(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<DiffFlags>();
  auto* sub =
      app.add_subcommand("diff", "Compare two soak runs arm by arm; exit 1 on a memory regression");
  sub->add_option("base_run", f->base, "The reference run directory")->required();
  sub->add_option("new_run", f->next, "The run to judge")->required();
  sub->add_option("--max-regression", f->max_regression,
                  "A memory figure regresses when it grows by more than this")
      ->capture_default_str();
  sub->add_option("--floor", f->floor, "...and by more than this many bytes")
      ->capture_default_str();
  sub->add_flag("--json", f->json, "Machine-readable output");
  sub->callback([f, &exit_code] { exit_code = run(*f); });
}

const Registration reg{{"diff", 65, attach}};

}  // namespace
}  // namespace infermem::cli
