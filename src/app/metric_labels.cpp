// `watch --label KEY=VALUE`: constant labels a fleet puts on every series a watch exports (the
// model a pod serves, its version, the ONNX Runtime version, the pod). Checked here so a bad one
// is an input error before anything starts, never a series Prometheus refuses to ingest.
#include <fmt/format.h>

#include <array>

#include "infermem/error.h"
#include "infermem/watch_app.h"

namespace infermem {
namespace {

// Labels infermem or Prometheus already set on watch's series: a constant label of the same
// name would collide with them (pid, command: every series; kind, bound, reason, model_path:
// per-series labels of some families; instance, job: set by the scrape itself).
constexpr std::array<std::string_view, 8> kReserved = {"pid",    "command",    "kind",     "bound",
                                                       "reason", "model_path", "instance", "job"};

bool label_name_ok(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Well-formed UTF-8 (no overlong forms or surrogates): what the exposition format requires.
bool utf8_ok(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned cp = 0, min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

std::pair<std::string, std::string> parse_metric_label(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos)
    throw InputError(
        fmt::format("--label '{}': give KEY=VALUE (e.g. --label model_version=1.4.2)", text));
  const std::string_view name = text.substr(0, eq), value = text.substr(eq + 1);
  if (!label_name_ok(name))
    throw InputError(fmt::format(
        "--label '{}': '{}' is not a Prometheus label name: letters, digits and '_', not "
        "starting with a digit",
        text, name));
  if (name.substr(0, 2) == "__")
    throw InputError(fmt::format(
        "--label '{}': names starting with '__' are reserved for Prometheus itself", text));
  for (auto reserved : kReserved)
    if (name == reserved)
      throw InputError(fmt::format(
          "--label '{}': '{}' is reserved: infermem or the scrape sets it on watch's series "
          "(reserved: pid, command, kind, bound, reason, model_path, instance, job)",
          text, name));
  if (value.empty())
    throw InputError(fmt::format(
        "--label '{}': the value is empty (an empty label is no label to Prometheus)", text));
  if (!utf8_ok(value))
    throw InputError(fmt::format("--label {}=...: the value is not valid UTF-8", name));
  return {std::string(name), std::string(value)};
}

std::map<std::string, std::string> parse_metric_labels(const std::vector<std::string>& texts) {
  std::map<std::string, std::string> labels;
  for (const auto& text : texts) {
    auto [name, value] = parse_metric_label(text);
    if (!labels.emplace(name, value).second)
      throw InputError(fmt::format("--label '{}': '{}' is given twice (once with '{}')", text, name,
                                   labels[name]));
  }
  return labels;
}

}  // namespace infermem
