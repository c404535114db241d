// The CI gate: thresholds (flags or a flat TOML file) checked against each subject's figures and
// verdict. Each check's message names the figure, the limit and where the figure came from.
#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
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

bool verdict_fails(const std::string& fail_on, const std::string& kind) {
  if (fail_on == "leak") return kind == "leak";
  if (fail_on == "any") return kind != "stable" && kind != "plateau";
  return false;
}

}  // namespace

bool Thresholds::any() const {
  return max_growth_bytes_per_request || max_growth_bytes_per_minute || max_peak_bytes ||
         max_retained_bytes || max_retained_fraction_of_loaded || !fail_on.empty();
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
  if (!t.fail_on.empty()) {
    CheckResult r{s.name, "verdict", !verdict_fails(t.fail_on, v.kind), ""};
    r.message =
        fmt::format("verdict {} (fail_on = {}): {}", v.kind, t.fail_on,
                    v.evidence.empty() ? std::string("no evidence recorded") : v.evidence.back());
    if (v.kind == "leak" && present(v.growth_bytes_per_request))
      r.message += fmt::format("; growth {}/request{}", format_bytes(v.growth_bytes_per_request),
                               ci_text(v.growth_ci_low_bytes_per_request,
                                       v.growth_ci_high_bytes_per_request, "request"));
    out.push_back(r);
  }
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

// A flat TOML subset, one key a line: bare keys, "basic" and 'literal' strings, numbers,
// comments, and an optional [gate] table. Anything else is an error naming origin:line.
class ThresholdsParser {
 public:
  explicit ThresholdsParser(const std::string& origin) : origin_(origin) {}

  Thresholds parse(std::string_view text) {
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      ++line_;
      parse_line(text.substr(start, end - start));
      start = end + 1;
    }
    return result_;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}:{}: {}", origin_, line_, what));
  }

  static std::string shown(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 40))
      out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    return s.size() > 40 ? out + "..." : out;
  }

  static void skip_space(std::string_view& s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  }

  // After a value or table header: only spaces and an optional comment may follow.
  void expect_end(std::string_view rest) {
    skip_space(rest);
    if (!rest.empty() && rest.front() != '#')
      fail(fmt::format("unexpected '{}' after the value", shown(rest)));
  }

  void parse_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    skip_space(line);
    if (line.empty() || line.front() == '#') return;
    if (line.front() == '[') return parse_table(line);
    std::size_t key_end = 0;
    while (key_end < line.size() && (std::isalnum(static_cast<unsigned char>(line[key_end])) ||
                                     line[key_end] == '_' || line[key_end] == '-'))
      ++key_end;
    if (key_end == 0) fail(fmt::format("expected 'key = value', found '{}'", shown(line)));
    std::string key(line.substr(0, key_end));
    std::string_view rest = line.substr(key_end);
    skip_space(rest);
    if (rest.empty() || rest.front() != '=')
      fail(fmt::format("expected '=' after '{}'", shown(key)));
    rest.remove_prefix(1);
    skip_space(rest);
    Value value = parse_value(rest);
    expect_end(rest);
    for (auto& c : key)
      if (c == '-') c = '_';
    if (!seen_.insert(key).second) fail(fmt::format("'{}' is set twice", key));
    apply(key, value);
  }

  void parse_table(std::string_view line) {
    std::size_t close = line.find(']');
    if (line.starts_with("[[") || close == std::string_view::npos)
      fail(fmt::format("bad table header '{}' (only [gate] is accepted)", shown(line)));
    std::string_view name = line.substr(1, close - 1);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (name != "gate")
      fail(fmt::format("unknown table [{}] (only [gate] is accepted)", shown(name)));
    if (in_gate_) fail("[gate] appears twice");
    if (!seen_.empty()) fail("keys before [gate] and inside it: put them all under [gate]");
    in_gate_ = true;
    expect_end(line.substr(close + 1));
  }

  struct Value {
    bool is_string = false;
    std::string text;  // the string, or the number as written
    double number = 0;
  };

  // Consumes the value from the front of `rest`.
  Value parse_value(std::string_view& rest) {
    if (rest.empty()) fail("missing value after '='");
    Value v;
    char quote = rest.front();
    if (quote == '"' || quote == '\'') {
      v.is_string = true;
      std::size_t i = 1;
      for (; i < rest.size() && rest[i] != quote; ++i) {
        char c = rest[i];
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
          fail("control character in a string");
        if (c == '\\' && quote == '"') {
          if (++i >= rest.size()) break;
          switch (rest[i]) {
            case '"':
              v.text += '"';
              break;
            case '\\':
              v.text += '\\';
              break;
            case 't':
              v.text += '\t';
              break;
            default:
              fail(fmt::format("unsupported escape '\\{}' in a string", shown(rest.substr(i, 1))));
          }
          continue;
        }
        v.text += c;
      }
      if (i >= rest.size()) fail("unterminated string");
      rest.remove_prefix(i + 1);
      return v;
    }
    std::size_t i = 0;
    while (i < rest.size() && rest[i] != ' ' && rest[i] != '\t' && rest[i] != '#') ++i;
    std::string_view word = rest.substr(0, i);
    if (word == "true" || word == "false")
      fail("booleans are not accepted here; write a size or \"leak\"/\"any\" in quotes");
    std::string digits;
    for (char c : word)
      if (c != '_') digits += c;
    char* end = nullptr;
    errno = 0;
    v.number = digits.empty() ? 0 : std::strtod(digits.c_str(), &end);
    bool plain =
        !digits.empty() && digits.find_first_not_of("0123456789.eE+-") == std::string::npos;
    if (!plain || end != digits.c_str() + digits.size() || errno != 0 || !std::isfinite(v.number))
      fail(fmt::format("'{}' is not a number or a quoted string (sizes go in quotes: \"16KiB\")",
                       shown(word)));
    if (v.number < 0) fail(fmt::format("'{}' must not be negative", shown(word)));
    v.text = std::string(word);
    rest.remove_prefix(i);
    return v;
  }

  // A size in bytes: a number, or a string like "16KiB", optionally ending in "/<unit>".
  double size(const std::string& key, const Value& v,
              std::initializer_list<std::string_view> units) {
    if (!v.is_string) return v.number;
    std::string_view text = v.text;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
      std::string_view unit = text.substr(slash + 1);
      if (std::find(units.begin(), units.end(), unit) == units.end())
        fail(fmt::format("{}: '{}' has an unexpected unit after '/'", key, shown(v.text)));
      text = text.substr(0, slash);
    }
    try {
      return static_cast<double>(parse_size(text, key));
    } catch (const InputError& e) {
      fail(e.what());
    }
  }

  void apply(const std::string& key, const Value& v) {
    if (key == "max_growth") {
      result_.max_growth_bytes_per_request = size(key, v, {"request", "req"});
    } else if (key == "max_growth_rate") {
      result_.max_growth_bytes_per_minute = size(key, v, {"minute", "min", "m"});
    } else if (key == "max_peak") {
      result_.max_peak_bytes = size(key, v, {});
    } else if (key == "max_retained") {
      if (!v.is_string) {
        result_.max_retained_bytes = v.number;
        return;
      }
      try {
        parse_retained_threshold(v.text, result_);
      } catch (const InputError& e) {
        fail(fmt::format("max_retained: {}", e.what()));
      }
    } else if (key == "fail_on") {
      if (!v.is_string || (v.text != "leak" && v.text != "any" && v.text != "none"))
        fail(fmt::format("fail_on must be \"leak\", \"any\" or \"none\", not '{}'", shown(v.text)));
      result_.fail_on = v.text == "none" ? "" : v.text;
    } else {
      fail(
          fmt::format("unknown key '{}' (known: max_growth, max_growth_rate, max_peak, "
                      "max_retained, fail_on)",
                      shown(key)));
    }
  }

  std::string origin_;
  int line_ = 0;
  bool in_gate_ = false;
  std::set<std::string> seen_;
  Thresholds result_;
};

}  // namespace

Thresholds parse_thresholds_text(std::string_view text, const std::string& origin) {
  return ThresholdsParser(origin).parse(text);
}

Thresholds load_thresholds_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(fmt::format("--config: cannot read '{}': {}", path, std::strerror(errno)));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("--config: error reading '{}'", path));
  return parse_thresholds_text(content.str(), path);
}

}  // namespace infermem
