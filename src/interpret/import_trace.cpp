// infermem's own trace.jsonl -> one Series per arm (soak) or one for the process (watch).
// A soak arm is read exactly as soak judged it (infermem/arm_figures.h: the child's per-request
// readings in warm/infer, the context from phase ends), so analyze of a soak trace gives soak's
// verdict. Any other trace (watch, or samples from outside only) gives every sample with a
// memory value, and the context from the last reading in phases baseline, load, unload and trim.
#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "infermem/arm_figures.h"
#include "infermem/error.h"
#include "infermem/series_builder.h"
#include "infermem/trace.h"
#include "interpret/import_util.h"

namespace infermem::import_detail {
namespace {

using namespace trace::key;

double first_present(const trace::Record& r, std::initializer_list<Figure> keys) {
  for (auto k : keys)
    if (auto v = r.value(k)) return *v;
  return kAbsent;
}

bool has_memory_value(const trace::Record& r) {
  return r.value(Figure::rss_bytes) || r.value(Figure::hwm_bytes) ||
         r.value(Figure::malloc_in_use_bytes) || r.value(Figure::jemalloc_allocated_bytes);
}

// A soak arm: the child wrote samples in its warm/infer phases.
bool is_soak_sample(const trace::Record& r) {
  return r.type == trace::RecordType::sample && r.src == trace::Src::child &&
         (r.phase == trace::Phase::warm || r.phase == trace::Phase::infer);
}

// The figures that are a number of bytes the importer reads (as a point, a context figure or
// soak's peaks): every byte figure of a memory reading, and the phase peaks.
bool is_byte_figure(Figure f) {
  static const std::array<bool, kFigureCount> byte = [] {
    std::array<bool, kFigureCount> b{};
    b[index_of(Figure::peak_sampled_rss_bytes)] = b[index_of(Figure::peak_hwm_since_reset_bytes)] =
        true;
    for (Figure r : trace::kReadingFigures)
      if (unit(r) == Unit::bytes) b[index_of(r)] = true;
    return b;
  }();
  return byte[index_of(f)];
}

bool is_byte_key(std::string_view k) {
  const auto f = parse_figure(k);
  return f && is_byte_figure(*f);
}

// A key the format defines (the envelope's or a reading's); "" when `k` is none.
std::string_view known_key(std::string_view k) {
  for (std::string_view known :
       {std::string_view(kVersion), std::string_view(kType), std::string_view(kTime),
        std::string_view(kArm), std::string_view(kPid), std::string_view(kPhase),
        std::string_view(kReq), std::string_view(kSrc), name(Figure::cycle)})
    if (k == known) return known;
  for (Figure known : trace::kReadingFigures)
    if (k == name(known)) return name(known);
  return is_byte_key(k) ? k : std::string_view();
}

// Checks the keys of one record's line as written, which trace::parse_line has already read as a
// JSON object (so the line is valid JSON): a key written twice (the parser keeps the last, so
// which figure was meant cannot be told) or a known key written in another case or with spaces
// or dashes ("RSS_bytes", "rss-bytes ", which the reader would take for an unknown figure and
// the importer would drop unseen). Keys are compared as JSON decodes them ("rss\u005fbytes" is
// rss_bytes). The buffers are kept between lines.
class KeyCheck {
 public:
  // "" when the keys are sound, else what is wrong with them.
  std::string problem(std::string_view line) {
    keys_.clear();
    decoded_.clear();
    int depth = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        --depth;
      } else if (c == '"') {
        const std::size_t start = ++i;
        bool escaped = false;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') escaped = true, ++i;
          ++i;
        }
        if (depth != 1 || i >= line.size()) continue;
        std::size_t after = line.find_first_not_of(" \t\r\n", i + 1);
        if (after == std::string_view::npos || line[after] != ':') continue;  // a value
        std::string_view key = line.substr(start, i - start);
        if (escaped) {
          auto decoded =
              nlohmann::json::parse(line.substr(start - 1, i - start + 2), nullptr, false);
          if (!decoded.is_string()) return fmt::format("key '{}' is not a string", excerpt(key));
          key = decoded_.emplace_back(decoded.get<std::string>());
        }
        keys_.push_back(key);
      }
    }
    for (std::string_view key : keys_)
      if (auto meant = mangled(key); !meant.empty())
        return fmt::format("key '{}' is a mangled '{}'", excerpt(key), meant);
    std::sort(keys_.begin(), keys_.end());
    if (auto twice = std::adjacent_find(keys_.begin(), keys_.end()); twice != keys_.end())
      return fmt::format("key '{}' appears twice", excerpt(*twice));
    return "";
  }

 private:
  // The known key that `key` spells in another case or with spaces or dashes; "" when none
  // (the format's own keys are lower-case snake_case, so a sound key never gets here).
  std::string_view mangled(std::string_view key) {
    if (std::all_of(key.begin(), key.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        }))
      return "";
    std::string& normal = normal_;
    normal.clear();
    for (char c : trim(key))
      normal.push_back(c == '-' || c == ' ' || c == '\t'
                           ? '_'
                           : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return known_key(normal);
  }

  std::vector<std::string_view> keys_;
  std::deque<std::string> decoded_;  // keys with escapes, decoded (a deque: views stay valid)
  std::string normal_;
};

// "" when every byte figure of the record is a number that obeys the importers' rule
// (byte_figure_problem) and its time is finite; else what is wrong.
std::string figure_problem(const trace::Record& r) {
  if (!std::isfinite(r.t_ms)) return "\"t_ms\" is not finite";
  for (auto [f, v] : r.values)
    if (is_byte_figure(f))
      if (const char* problem = byte_figure_problem(v))
        return fmt::format("\"{}\" {} ({})", name(f), problem, v);
  // The reader keeps a value that is not a number as context: a byte figure of another type.
  if (r.extra.is_object())
    for (const auto& item : r.extra.items())
      if (is_byte_key(item.key()))
        return fmt::format("\"{}\" is not a number ({})", item.key(), excerpt(item.value().dump()));
  return "";
}

// Tracks the last reading of each phase; a run of unload readings ends a churn cycle.
class ContextBuilder {
 public:
  void reading(trace::Phase phase, double rss) {
    // A cycle ends at the first phase after its unload (and after the arm's trim that follows
    // the unload, whose reading then stands for the cycle).
    if (phase == trace::Phase::trim && present(last_unload_bytes_) && present(rss))
      last_unload_bytes_ = rss;
    if ((last_phase_ == trace::Phase::unload || last_phase_ == trace::Phase::trim) &&
        phase != trace::Phase::unload && phase != trace::Phase::trim)
      end_unload();
    if (last_phase_ != phase) last_phase_ = phase;
    if (!present(rss)) return;
    if (phase == trace::Phase::baseline) context_.baseline_bytes = rss;
    if (phase == trace::Phase::load) context_.loaded_bytes = rss;
    if (phase == trace::Phase::unload) context_.after_unload_bytes = last_unload_bytes_ = rss;
    if (phase == trace::Phase::trim) context_.after_trim_bytes = rss;
  }
  SeriesContext finish() {
    end_unload();
    return context_;
  }

 private:
  void end_unload() {
    if (present(last_unload_bytes_))
      context_.after_unload_per_cycle_bytes.push_back(last_unload_bytes_);
    last_unload_bytes_ = kAbsent;
  }
  SeriesContext context_;
  trace::Phase last_phase_ = trace::Phase::none;
  double last_unload_bytes_ = kAbsent;
};

// One arm's (or the one process's) records, consumed as they are read. Both readings are built
// until the end, when the arm turns out to be a soak arm or not.
struct ArmState {
  explicit ArmState(std::size_t max_points) : samples(max_points) {}
  int pid = 0;
  bool soak = false;
  bool injected = false;
  ArmAccumulator accumulator;  // soak's reading
  SeriesBuilder samples;       // any other trace: every sample with a memory value
  ContextBuilder context;
  std::map<std::string, int> sources;  // src -> samples

  void add(const trace::Record& r) {
    soak = soak || is_soak_sample(r);
    accumulator.add(r);
    const bool phase_end = r.type == trace::RecordType::phase && r.edge == trace::Edge::end;
    if (phase_end) context.reading(r.phase.kind, first_present(r, {Figure::rss_bytes}));
    if (r.type != trace::RecordType::sample || !has_memory_value(r)) return;
    SeriesPoint p;
    p.t_ms = r.t_ms;
    p.req = r.req;
    p.phase = r.phase;
    p.current_bytes = first_present(r, {Figure::rss_bytes});
    p.hwm_bytes = first_present(r, {Figure::hwm_bytes});
    p.allocator_in_use_bytes =
        first_present(r, {Figure::jemalloc_allocated_bytes, Figure::malloc_in_use_bytes});
    if (auto cycle = r.cycle()) p.cycle = *cycle;
    context.reading(r.phase.kind, p.current_bytes);
    ++sources[r.src.empty() ? std::string("unknown") : std::string(r.src.text())];
    samples.add(p);
  }

  ImportedSeries finish(const std::string& name) {
    ImportedSeries imported;
    if (soak) {
      const ArmFigures figures = accumulator.figures();
      imported.series = accumulator.series(name);
      imported.context = accumulator.context(figures);
      imported.figures = figures_of(imported.series.points);
      imported.cache_events = accumulator.cache_events();
      imported.arm_begin_ms = accumulator.arm_begin_ms();
      return imported;
    }
    Series& s = imported.series;
    s.name = name;
    imported.context = context.finish();
    imported.figures = samples.figures();
    if (samples.merged()) imported.notes.push_back(merged_note(samples));
    s.points = samples.take_points(/*sort_by_time=*/true);
    std::string counts;
    for (const auto& [src, n] : sources)
      counts += fmt::format("{}{} from {}", counts.empty() ? "" : ", ", n, src);
    s.current_source = fmt::format("VmRSS in trace samples ({})", counts);
    s.hwm_source = "VmHWM in trace samples (process-lifetime high-water mark)";
    return imported;
  }
};

}  // namespace

Imported import_trace(trace::Source& source, const ImportOptions& options) {
  Imported result;
  result.format = "trace";
  SkipTally skips;
  std::vector<std::string> order;  // arms in order of first appearance
  std::map<std::string, std::unique_ptr<ArmState>> arms;
  std::vector<std::string> trace_notes;
  bool injected_everywhere = false;

  trace::Reader reader(source);
  reader.on_skip = [&](std::uint64_t number, std::string_view why) { skips.skip(number, why); };
  KeyCheck key_check;
  while (auto record = reader.next()) {
    // A record whose figures cannot be trusted is skipped whole: none of it reaches a series,
    // a context figure or soak's reading.
    std::string problem = key_check.problem(reader.last_raw_line());
    if (problem.empty()) problem = figure_problem(*record);
    if (!problem.empty()) {
      skips.skip(reader.last_line_number(), problem);
      continue;
    }
    // soak's header carries inject_leak_bytes when --inject-leak was used (every arm has it).
    const auto leak = record->value(Figure::inject_leak_bytes);
    const bool injected = leak && *leak > 0;
    if (injected && record->arm.empty()) injected_everywhere = true;
    if (record->type == trace::RecordType::note) {
      for (auto k : {kText, kMessage})
        if (auto text = record->text(k); !text.empty() && trace_notes.size() < 10)
          trace_notes.push_back("trace note: " + text);
      // An arm's notes also go to its reading: the cache scenario's load/evict/refused events.
      if (record->arm.empty()) continue;
    }
    if (record->type == trace::RecordType::header) continue;
    auto [it, inserted] = arms.try_emplace(record->arm);
    if (inserted) {
      it->second = std::make_unique<ArmState>(options.max_points);
      order.push_back(record->arm);
    }
    ArmState& arm = *it->second;
    if (record->pid != 0 && arm.pid == 0) arm.pid = record->pid;
    arm.injected = arm.injected || injected;
    arm.add(*record);
  }
  result.lines = source.lines();
  result.skipped_lines = skips.count();

  for (const std::string& name : order) {
    ArmState& arm = *arms[name];
    const std::string shown = !name.empty()  ? name
                              : arm.pid != 0 ? fmt::format("pid {}", arm.pid)
                                             : base_name(options.source_name);
    ImportedSeries imported = arm.finish(shown);
    if (imported.series.points.empty()) continue;
    imported.context.injected_leak = injected_everywhere || arm.injected;
    result.series.push_back(std::move(imported));
  }
  skips.add_notes(result.notes);
  result.notes.insert(result.notes.end(), trace_notes.begin(), trace_notes.end());
  if (result.series.empty())
    throw InputError(fmt::format(
        "{}: no usable samples: the trace has no sample records with rss_bytes, hwm_bytes or "
        "malloc_in_use_bytes ({} lines, {} malformed{}{})",
        options.source_name, result.lines, skips.count(), skips.count() ? "; " : "",
        skips.first_reason()));
  return result;
}

}  // namespace infermem::import_detail
