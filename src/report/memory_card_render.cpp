// The memory card (inspect --measure) as text, Markdown and JSON. Every figure comes from the
// card; the renderers only lay it out (JSON fields: docs/memory-card.md).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "infermem/error.h"
#include "infermem/numbers.h"
#include "infermem/render.h"
#include "infermem/units.h"

namespace infermem {
namespace {

std::string bytes_text(double bytes) {
  return present(bytes) ? format_bytes(bytes) : "n/a";
}

std::string share_text(double part, double whole) {
  return present(part) && present(whole) && whole > 0 ? fmt::format("{:.1f}%", 100 * part / whole)
                                                      : "n/a";
}

// The levels of the reference child, in the order a session lives them.
std::vector<std::pair<std::string, double>> levels(const MemoryCard& card) {
  const CardMeasurements& m = card.measured;
  return {{"baseline (runtime, no session)", m.baseline_bytes},
          {"load peak (session creation)", m.load_peak_bytes},
          {"steady after warm-up", m.steady_bytes},
          {"after unload", m.after_unload_bytes},
          {"after unload and trim", m.after_trim_bytes},
          {"retained (after trim - baseline)", card.retained_bytes}};
}

std::string header_line(const CardMeasurements& m) {
  return fmt::format(
      "file {}, initializers {}; ONNX Runtime {}; each child: {} warm-up + {} requests, seed {}",
      bytes_text(static_cast<double>(m.file_bytes)),
      bytes_text(static_cast<double>(m.weight_bytes)),
      m.ort_version.empty() ? "(unknown)" : m.ort_version, m.warm_requests, m.requests, m.seed);
}

std::string card_text(const MemoryCard& card) {
  const CardMeasurements& m = card.measured;
  std::string out = fmt::format("memory card  {}\n{}\n\nlevels (VmRSS, default session)\n",
                                m.model_path, header_line(m));
  for (const auto& [label, bytes] : levels(card))
    out += fmt::format("  {:<34} {:>10}\n", label, bytes_text(bytes));
  out += "\npeak per input shape (a fresh child each)\n";
  for (const auto& s : m.shape_peaks)
    out += fmt::format("  {:<34} {:>10}\n", s.shape, bytes_text(s.peak_bytes));
  out += fmt::format("\nsplit of the steady level ({})\n", bytes_text(m.steady_bytes));
  for (const auto& p : card.parts) {
    out += fmt::format("  {:<28} {:>10} {:>7}  {}\n", p.title, bytes_text(p.bytes),
                       share_text(p.bytes, m.steady_bytes), p.method);
    for (const auto& s : p.settings) out += fmt::format("      changed by: {}\n", s);
  }
  out += fmt::format("\nsplit of what stays after unload and trim ({})\n",
                     bytes_text(card.retained_bytes));
  for (const auto& p : card.retained_parts) {
    out += fmt::format("  {:<28} {:>10} {:>7}  {}\n", p.title, bytes_text(p.bytes),
                       share_text(p.bytes, card.retained_bytes), p.method);
    for (const auto& s : p.settings) out += fmt::format("      changed by: {}\n", s);
  }
  if (!card.notes.empty()) out += "\nnotes\n";
  for (const auto& n : card.notes) out += fmt::format("  - {}\n", n);
  return out;
}

// A Markdown cell: pipes escaped, so a setting's text cannot split the row.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string parts_rows(const std::vector<CardPart>& parts, double whole) {
  std::string out;
  for (const auto& p : parts)
    out += fmt::format("| {} | {} | {} | {} | {} |\n", p.title, bytes_text(p.bytes),
                       share_text(p.bytes, whole), cell(p.method),
                       cell(fmt::format("{}", fmt::join(p.settings, "; "))));
  return out;
}

std::string card_markdown(const MemoryCard& card) {
  const CardMeasurements& m = card.measured;
  std::string out =
      fmt::format("# Memory card: `{}`\n\n{}\n\n| level (VmRSS) | bytes |\n|---|---:|\n",
                  m.model_path, header_line(m));
  for (const auto& [label, bytes] : levels(card))
    out += fmt::format("| {} | {} |\n", label, bytes_text(bytes));
  out += "\n| input shape | peak |\n|---|---:|\n";
  for (const auto& s : m.shape_peaks)
    out += fmt::format("| `{}` | {} |\n", cell(s.shape), bytes_text(s.peak_bytes));
  out += fmt::format(
      "\n## Split of the steady level ({})\n\n| part | bytes | share | measured as | changed by "
      "|\n|---|---:|---:|---|---|\n",
      bytes_text(m.steady_bytes));
  out += parts_rows(card.parts, m.steady_bytes);
  out += fmt::format(
      "\n## Split of what stays after unload and trim ({})\n\n| part | bytes | share | measured "
      "as | changed by |\n|---|---:|---:|---|---|\n",
      bytes_text(card.retained_bytes));
  out += parts_rows(card.retained_parts, card.retained_bytes);
  if (!card.notes.empty()) out += "\n";
  for (const auto& n : card.notes) out += fmt::format("- {}\n", n);
  return out;
}

nlohmann::json parts_json(const std::vector<CardPart>& parts) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : parts)
    out.push_back({{"key", p.key},
                   {"title", p.title},
                   {"bytes", json_number(p.bytes)},
                   {"method", p.method},
                   {"settings", p.settings}});
  return out;
}

nlohmann::json card_json(const MemoryCard& card) {
  const CardMeasurements& m = card.measured;
  nlohmann::json shapes = nlohmann::json::array();
  for (const auto& s : m.shape_peaks)
    shapes.push_back({{"shape", s.shape}, {"peak_bytes", json_number(s.peak_bytes)}});
  return {
      {"card_version", 1},
      {"model",
       {{"path", m.model_path}, {"file_bytes", m.file_bytes}, {"weight_bytes", m.weight_bytes}}},
      {"ort_version", m.ort_version},
      {"method", {{"requests", m.requests}, {"warm_requests", m.warm_requests}, {"seed", m.seed}}},
      {"levels",
       {{"baseline_bytes", json_number(m.baseline_bytes)},
        {"load_peak_bytes", json_number(m.load_peak_bytes)},
        {"steady_bytes", json_number(m.steady_bytes)},
        {"after_unload_bytes", json_number(m.after_unload_bytes)},
        {"after_trim_bytes", json_number(m.after_trim_bytes)},
        {"retained_bytes", json_number(card.retained_bytes)}}},
      {"shapes", shapes},
      {"largest_shape_peak_bytes", json_number(card.largest_shape_peak_bytes)},
      {"parts", parts_json(card.parts)},
      {"parts_bytes", json_number(card.parts_bytes)},
      {"rest_bytes", json_number(card.rest_bytes)},
      {"retained_parts", parts_json(card.retained_parts)},
      {"measured",
       {{"malloc_in_use_bytes", json_number(m.malloc_in_use_bytes)},
        {"ort_code_bytes", json_number(m.ort_code_bytes)},
        {"arena_reserved_bytes", json_number(m.arena_reserved_bytes)},
        {"steady_no_prepack_bytes", json_number(m.steady_no_prepack_bytes)},
        {"steady_no_arena_bytes", json_number(m.steady_no_arena_bytes)},
        {"malloc_free_bytes", json_number(m.malloc_free_bytes)},
        {"malloc_in_use_no_prepack_bytes", json_number(m.malloc_in_use_no_prepack_bytes)},
        {"malloc_in_use_no_arena_bytes", json_number(m.malloc_in_use_no_arena_bytes)},
        {"baseline_anon_bytes", json_number(m.baseline_anon_bytes)},
        {"after_trim_anon_bytes", json_number(m.after_trim_anon_bytes)},
        {"baseline_file_bytes", json_number(m.baseline_file_bytes)},
        {"after_trim_file_bytes", json_number(m.after_trim_file_bytes)},
        {"baseline_malloc_in_use_bytes", json_number(m.baseline_malloc_in_use_bytes)},
        {"after_trim_malloc_in_use_bytes", json_number(m.after_trim_malloc_in_use_bytes)},
        {"ort_state_in_use_bytes", json_number(m.ort_state_in_use_bytes)}}},
      {"notes", card.notes}};
}

}  // namespace

std::string render(const MemoryCard& card, Format format) {
  switch (format) {
    case Format::terminal:
      return card_text(card);
    case Format::markdown:
      return card_markdown(card);
    case Format::json:
      return card_json(card).dump(2) + "\n";
    case Format::junit:
    case Format::html:
    case Format::prometheus:
      break;
  }
  throw InputError("the memory card renders as text, Markdown or JSON only");
}

}  // namespace infermem
