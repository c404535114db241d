// The CI gate: thresholds (flags or infermem.toml, read by toml++) checked against each subject's
// figures and verdict. Each check's message names the figure, the limit and where the figure
// came from.
#include <fmt/format.h>
#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "infermem/error.h"
#include "infermem/gate.h"
#include "infermem/units.h"

namespace infermem {
namespace {

// One "figure <= limit" check; a figure that was not measured is skipped, not passed silently.
CheckResult limit_check(const GateSubject& subject, const std::string& check, double figure,
                        double limit, const std::string& what, const std::string& unit_text,
                        const std::string& source, const std::string& missing) {
  CheckResult r{subject.name, check, true, ""};
  auto shown = [&](double v) { return format_bytes(v) + unit_text; };
  if (!present(figure)) {
    r.skipped = true;
    r.message = fmt::format("{} not measured ({}); limit {}", what, missing, shown(limit));
    return r;
  }
  r.passed = figure <= limit;
  r.message = fmt::format("{} {} ({}) {} the limit {}", what, shown(figure), source,
                          r.passed ? "is within" : "exceeds", shown(limit));
  return r;
}

std::string ci_text(double lo, double hi, const char* unit) {
  if (!present(lo) || !present(hi)) return "";
  return fmt::format("; 95% CI {} .. {}/{}", format_bytes(lo), format_bytes(hi), unit);
}

bool verdict_fails(FailOn fail_on, VerdictKind kind) {
  switch (fail_on) {
    case FailOn::leak:
      return kind == VerdictKind::leak;
    case FailOn::any:
      return kind != VerdictKind::stable && kind != VerdictKind::plateau;
    case FailOn::none:
      break;
  }
  return false;
}

// The verdict check: fails on the kinds fail_on names; a run too short to judge fails too
// (the gate never passes on a run it could not judge) unless allow_short accepts it.
CheckResult verdict_check(const Thresholds& t, const GateSubject& s) {
  const Verdict& v = s.verdict;
  CheckResult r{s.name, "verdict", !verdict_fails(t.fail_on, v.kind), ""};
  // Quote the finding that decided the verdict (not whichever evidence line came last).
  std::string why;
  if (const Finding* f = v.decisive_finding())
    why = render_finding(*f);
  else
    why = v.evidence.empty() ? std::string("no evidence recorded") : v.evidence.front();
  r.message = fmt::format("verdict {} (fail_on = {}): {}", v.kind, name(t.fail_on), why);
  if (v.kind == VerdictKind::too_short) {
    r.passed = t.allow_short;
    r.message += t.allow_short
                     ? " Accepted: allow_short is set (--allow-short), so a run too short to "
                       "judge passes."
                     : " The run was too short to judge, so the gate cannot pass it; "
                       "--allow-short (allow_short = true) accepts it.";
  }
  if (v.kind == VerdictKind::leak && present(v.growth_bytes_per_request))
    r.message += fmt::format(
        "; growth {}/request{}", format_bytes(v.growth_bytes_per_request),
        ci_text(v.growth_ci_low_bytes_per_request, v.growth_ci_high_bytes_per_request, "request"));
  return r;
}

}  // namespace

std::string_view name(FailOn fail_on) {
  switch (fail_on) {
    case FailOn::leak:
      return "leak";
    case FailOn::any:
      return "any";
    case FailOn::none:
      break;
  }
  return "none";
}

std::optional<FailOn> parse_fail_on(std::string_view text) {
  for (FailOn f : {FailOn::none, FailOn::leak, FailOn::any})
    if (name(f) == text) return f;
  return std::nullopt;
}

bool Thresholds::any() const {
  return max_growth_bytes_per_request || max_growth_bytes_per_minute || max_peak_bytes ||
         max_retained_bytes || max_retained_fraction_of_loaded || fail_on != FailOn::none;
}

std::vector<CheckResult> evaluate_gate(const Thresholds& t, const GateSubject& s) {
  std::vector<CheckResult> out;
  const Verdict& v = s.verdict;
  if (t.max_growth_bytes_per_request)
    out.push_back(limit_check(
        s, "max-growth", v.growth_bytes_per_request, *t.max_growth_bytes_per_request,
        "growth per request", "/request",
        "Theil-Sen after warm-up" + ci_text(v.growth_ci_low_bytes_per_request,
                                            v.growth_ci_high_bytes_per_request, "request"),
        "the series has no request counts"));
  if (t.max_growth_bytes_per_minute)
    out.push_back(limit_check(
        s, "max-growth-rate", v.growth_bytes_per_minute, *t.max_growth_bytes_per_minute,
        "growth per minute", "/minute",
        "Theil-Sen after warm-up" +
            ci_text(v.growth_ci_low_bytes_per_minute, v.growth_ci_high_bytes_per_minute, "minute"),
        "the series has no time axis"));
  if (t.max_peak_bytes)
    out.push_back(limit_check(s, "max-peak", s.peak_bytes, *t.max_peak_bytes, "peak", "",
                              "peak_bytes of the run", "no peak was recorded"));
  if (t.max_retained_bytes)
    out.push_back(limit_check(s, "max-retained", s.retained_bytes, *t.max_retained_bytes,
                              "retained", "", "after unload (or trim) minus baseline",
                              "no unload and baseline figures"));
  if (t.max_retained_fraction_of_loaded) {
    double fraction = *t.max_retained_fraction_of_loaded;
    CheckResult r{s.name, "max-retained-fraction", true, ""};
    if (!present(s.retained_bytes) || !present(s.loaded_bytes) || s.loaded_bytes <= 0) {
      r.skipped = true;
      r.message = fmt::format(
          "retained fraction of loaded not measured (needs retained and "
          "loaded figures); limit {:.1f}%",
          100 * fraction);
    } else {
      double measured = s.retained_bytes / s.loaded_bytes;
      r.passed = measured <= fraction;
      r.message = fmt::format(
          "retained {} is {:.1f}% of loaded {} (after unload or trim minus baseline, over RSS "
          "after load), {} the limit {:.1f}%",
          format_bytes(s.retained_bytes), 100 * measured, format_bytes(s.loaded_bytes),
          r.passed ? "within" : "exceeding", 100 * fraction);
    }
    out.push_back(r);
  }
  if (t.fail_on != FailOn::none) out.push_back(verdict_check(t, s));
  return out;
}

void parse_retained_threshold(const std::string& text, Thresholds& into) {
  if (!text.empty() && text.back() == '%') {
    std::string number = text.substr(0, text.size() - 1);
    char* end = nullptr;
    errno = 0;
    double percent = number.empty() ? NAN : std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || errno != 0 ||
        !std::isfinite(percent) || percent < 0 ||
        std::isspace(static_cast<unsigned char>(number[0])))
      throw InputError(
          fmt::format("--max-retained: '{}' is not a percentage (examples: 20%, 64MiB)", text));
    into.max_retained_fraction_of_loaded = percent / 100.0;
    return;
  }
  into.max_retained_bytes = static_cast<double>(parse_size(text, "--max-retained"));
}

namespace {

constexpr const char* kKnownKeys =
    "max_growth, max_growth_rate, max_peak, max_retained, fail_on, allow_short";

// Reads one TOML document into a GateConfig; every error names origin:line: and the key.
class ConfigReader {
 public:
  explicit ConfigReader(const std::string& origin) : origin_(origin) {}

  GateConfig read(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, origin_);
    } catch (const toml::parse_error& e) {
      throw InputError(fmt::format("{}:{}: {}", origin_, e.source().begin.line, e.description()));
    }
    GateConfig config;
    const toml::table* gate = nullptr;
    const toml::table* arms = nullptr;
    bool top_level_keys = false;
    for (auto&& [key, node] : root) {
      if (key.str() == "gate") {
        gate = table_or_fail(node, "gate", "[gate]");
      } else if (key.str() == "arms") {
        arms = table_or_fail(node, "arms", "[arms.NAME]");
      } else if (node.is_table() || node.is_array_of_tables()) {
        fail(node,
             fmt::format("unknown table [{}] (known: [gate] and [arms.NAME])", shown(key.str())));
      } else {
        top_level_keys = true;
      }
    }
    if (gate && top_level_keys)
      fail(*gate, "thresholds both at the top level and under [gate]: put them all under [gate]");
    read_thresholds(gate ? *gate : root, "", config.defaults, /*skip_tables=*/gate == nullptr);
    if (arms)
      for (auto&& [name, node] : *arms) {
        std::string arm(name.str());
        const toml::table* t = table_or_fail(node, "arms." + arm, "[arms.NAME]");
        Thresholds thresholds = config.defaults;
        read_thresholds(*t, "arms." + arm + ".", thresholds, false);
        config.per_arm.emplace(arm, thresholds);
      }
    return config;
  }

 private:
  [[noreturn]] void fail_at(const toml::source_region& where, const std::string& what) const {
    throw InputError(fmt::format("{}:{}: {}", origin_, where.begin.line, what));
  }
  [[noreturn]] void fail(const toml::node& node, const std::string& what) const {
    fail_at(node.source(), what);
  }

  static std::string shown(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 40))
      out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    return s.size() > 40 ? out + "..." : out;
  }

  const toml::table* table_or_fail(const toml::node& node, const std::string& key,
                                   const char* expected) const {
    if (const toml::table* t = node.as_table()) return t;
    fail(node, fmt::format("{}: expected a table {}, not {}", key, expected, type_name(node)));
  }

  static std::string type_name(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::table:
        return "a table";
      case toml::node_type::array:
        return "an array";
      case toml::node_type::string:
        return "a string";
      case toml::node_type::integer:
        return "an integer";
      case toml::node_type::floating_point:
        return "a number";
      case toml::node_type::boolean:
        return "a boolean";
      default:
        return "a date or time";
    }
  }

  // A size in bytes: a non-negative number, or a string like "16KiB", optionally ending in
  // "/<unit>".
  double size(const std::string& key, const toml::node& node,
              std::initializer_list<std::string_view> units) const {
    if (auto i = node.value<std::int64_t>(); i && node.is_integer()) {
      if (*i < 0) fail(node, fmt::format("{}: {} must not be negative", key, *i));
      return static_cast<double>(*i);
    }
    if (node.is_floating_point()) {
      double d = *node.value<double>();
      if (!std::isfinite(d) || d < 0)
        fail(node, fmt::format("{}: {} must be a finite, non-negative number", key, d));
      return d;
    }
    const std::string* text = node.is_string() ? &node.as_string()->get() : nullptr;
    if (!text)
      fail(node, fmt::format("{}: expected a size such as \"16KiB\" or a number of bytes, not {}",
                             key, type_name(node)));
    std::string_view value = *text;
    if (auto slash = value.find('/'); slash != std::string_view::npos) {
      std::string_view unit = value.substr(slash + 1);
      if (std::find(units.begin(), units.end(), unit) == units.end())
        fail(node, fmt::format("{}: '{}' has an unexpected unit after '/'", key, shown(*text)));
      value = value.substr(0, slash);
    }
    try {
      return static_cast<double>(parse_size(value, key));
    } catch (const InputError& e) {
      fail(node, e.what());
    }
  }

  void read_thresholds(const toml::table& table, const std::string& prefix, Thresholds& into,
                       bool skip_tables) const {
    // toml++ rejects a key set twice; the same key spelt with '-' and '_' is caught here, at the
    // later of its two lines (the table iterates in key order, not file order).
    std::map<std::string, const toml::key*> seen;
    for (auto&& [raw_key, node] : table) {
      if (skip_tables && (node.is_table() || node.is_array_of_tables())) continue;
      std::string key(raw_key.str());
      std::replace(key.begin(), key.end(), '-', '_');
      std::string shown_key = prefix + shown(raw_key.str());
      auto [previous, inserted] = seen.emplace(key, &raw_key);
      if (!inserted) {
        const toml::key& later = previous->second->source().begin.line > raw_key.source().begin.line
                                     ? *previous->second
                                     : raw_key;
        fail_at(later.source(), fmt::format("{}: set twice (as '-' and '_' spellings)",
                                            prefix + shown(later.str())));
      }
      if (key == "max_growth") {
        into.max_growth_bytes_per_request = size(shown_key, node, {"request", "req"});
      } else if (key == "max_growth_rate") {
        into.max_growth_bytes_per_minute = size(shown_key, node, {"minute", "min", "m"});
      } else if (key == "max_peak") {
        into.max_peak_bytes = size(shown_key, node, {});
      } else if (key == "max_retained") {
        if (const auto* text = node.as_string()) {
          Thresholds parsed;
          try {
            parse_retained_threshold(text->get(), parsed);
          } catch (const InputError& e) {
            fail(node, fmt::format("{}: {}", shown_key, e.what()));
          }
          into.max_retained_bytes = parsed.max_retained_bytes;
          into.max_retained_fraction_of_loaded = parsed.max_retained_fraction_of_loaded;
        } else {
          into.max_retained_bytes = size(shown_key, node, {});
          into.max_retained_fraction_of_loaded.reset();
        }
      } else if (key == "fail_on") {
        const auto* text = node.as_string();
        auto parsed = text ? parse_fail_on(text->get()) : std::nullopt;
        if (!parsed)
          fail(node,
               fmt::format("{}: fail_on must be \"leak\", \"any\" or \"none\", not {}", shown_key,
                           text ? "'" + shown(text->get()) + "'" : type_name(node)));
        into.fail_on = *parsed;
      } else if (key == "allow_short") {
        const auto* flag = node.as_boolean();
        if (!flag)
          fail(node, fmt::format("{}: expected true or false, not {}", shown_key, type_name(node)));
        into.allow_short = flag->get();
      } else {
        fail_at(raw_key.source(),
                fmt::format("unknown key '{}' (known: {})", shown_key, kKnownKeys));
      }
    }
  }

  std::string origin_;
};

}  // namespace

const Thresholds& GateConfig::for_subject(const std::string& name) const {
  auto it = per_arm.find(name);
  return it == per_arm.end() ? defaults : it->second;
}

GateConfig parse_gate_config_text(std::string_view text, const std::string& origin) {
  return ConfigReader(origin).read(text);
}

GateConfig load_gate_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(fmt::format("--config: cannot read '{}': {}", path, std::strerror(errno)));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("--config: error reading '{}'", path));
  return parse_gate_config_text(content.str(), path);
}

}  // namespace infermem
