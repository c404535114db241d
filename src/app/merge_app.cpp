#include "infermem/merge_app.h"
#include "infermem/run_files.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "infermem/error.h"
#include "infermem/soak.h"
#include "infermem/soak_app.h"
#include "infermem/trace.h"

namespace infermem {
namespace {

namespace fs = std::filesystem;

// One shard's run directory as merge reads it: its summary (run facts, options), its trace's
// header and the plan the header records under "shard".
struct Shard {
  std::string dir;
  RunSummary summary;
  trace::Record header;
  nlohmann::json plan;
  int k = 0, n = 0;
};

int plan_number(const Shard& s, const char* key) {
  const auto it = s.plan.find(key);
  if (it == s.plan.end() || !it->is_number_integer())
    throw InputError(
        fmt::format("{}/trace.jsonl: the header's shard plan has no whole number "
                    "\"{}\"",
                    s.dir, key));
  return it->get<int>();
}

Shard load_shard(const std::string& dir) {
  Shard s;
  s.dir = dir;
  s.summary = RunSummary::load(dir);
  trace::Reader reader(trace::Source::open(dir + "/trace.jsonl", "shard trace"));
  auto first = reader.next();
  if (!first || first->type != trace::RecordType::header)
    throw InputError(fmt::format("{}/trace.jsonl: no header record first: not a soak trace", dir));
  s.header = std::move(*first);
  const auto plan = s.header.extra.find("shard");
  if (plan == s.header.extra.end() || !plan->is_object())
    throw InputError(fmt::format(
        "{}: not a shard: its soak ran without --shard K/N (nothing to merge it with)", dir));
  s.plan = *plan;
  s.k = plan_number(s, "k");
  s.n = plan_number(s, "n");
  if (s.summary.interrupted)
    throw InputError(
        fmt::format("{}: shard {}/{} was interrupted before its cells ran to the end; run it again",
                    dir, s.k, s.n));
  return s;
}

std::string shown(const nlohmann::json& j) {
  std::string text = j.is_string() ? j.get<std::string>() : j.dump();
  return text.size() <= 160 ? text : text.substr(0, 150) + "...";
}

void require_same(const Shard& a, const Shard& b, const std::string& what, const std::string& va,
                  const std::string& vb) {
  if (va != vb)
    throw InputError(
        fmt::format("{} and {} are not shards of one plan: {} differs ({} in the first, {} in "
                    "the second)",
                    a.dir, b.dir, what, va.empty() ? "none" : va, vb.empty() ? "none" : vb));
}

// Typed: the reader's number, never its text.
std::string number_text(std::optional<double> v) {
  return v ? fmt::format("{}", *v) : "";
}

void check_one_plan(const Shard& a, const Shard& b) {
  for (const char* key : {trace::key::kModelSha256, trace::key::kScenario, trace::key::kOrtVersion,
                          trace::key::kToolVersion})
    require_same(a, b, key, a.header.text(key), b.header.text(key));
  require_same(a, b, trace::key::kSeed, number_text(a.header.other_value(trace::key::kSeed)),
               number_text(b.header.other_value(trace::key::kSeed)));
  const Figure leak = Figure::inject_leak_bytes;
  require_same(a, b, std::string(name(leak)), number_text(a.header.value(leak)),
               number_text(b.header.value(leak)));
  require_same(a, b, "seed", std::to_string(a.summary.seed), std::to_string(b.summary.seed));
  require_same(a, b, "N (shards in the plan)", std::to_string(a.n), std::to_string(b.n));
  for (const char* key : {"cells", "arms", "inject_peak_bytes", "inject_retained_bytes"})
    require_same(a, b, fmt::format("plan {}", key), shown(a.plan.value(key, nlohmann::json())),
                 shown(b.plan.value(key, nlohmann::json())));
  std::set<std::string> keys;
  for (const auto* s : {&a, &b})
    for (const auto& item : s->summary.options.items()) keys.insert(item.key());
  for (const auto& key : keys) {
    if (key == "command_line" || key == "shard") continue;
    require_same(a, b, fmt::format("option {}", key),
                 shown(a.summary.options.value(key, nlohmann::json())),
                 shown(b.summary.options.value(key, nlohmann::json())));
  }
}

// Every shard 1..N exactly once; the shards sorted by K.
void check_complete(std::vector<Shard>& shards) {
  const int n = shards.front().n;
  std::map<int, const Shard*> by_k;
  for (const auto& s : shards) {
    auto [it, fresh] = by_k.emplace(s.k, &s);
    if (!fresh)
      throw InputError(
          fmt::format("shard {}/{} is given twice: {} and {}", s.k, n, it->second->dir, s.dir));
  }
  std::string missing;
  for (int k = 1; k <= n; ++k)
    if (!by_k.count(k)) missing += fmt::format("{}{}/{}", missing.empty() ? "" : ", ", k, n);
  if (!missing.empty())
    throw InputError(fmt::format(
        "shard {} missing: the plan has {} shards and {} were given; give every shard's run "
        "directory",
        missing, n, shards.size()));
  std::sort(shards.begin(), shards.end(), [](const Shard& x, const Shard& y) { return x.k < y.k; });
}

// The plan's cells in the unsharded order: cell = round * arms + arm.
struct Plan {
  std::vector<std::string> arms;
  std::vector<std::map<std::string, std::string>> knobs;
  int repeat = 1;
  std::string cell_name(std::size_t arm, int round) const {
    return repeat > 1 ? fmt::format("{}#{}", arms[arm], round + 1) : arms[arm];
  }
};

Plan plan_of(const Shard& s) {
  Plan p;
  for (const auto& a : s.plan.value("arms", nlohmann::json::array())) {
    p.arms.push_back(a.value("name", ""));
    p.knobs.push_back(a.value("knobs", std::map<std::string, std::string>{}));
  }
  const int cells = plan_number(s, "cells");
  if (p.arms.empty() || cells % static_cast<int>(p.arms.size()) != 0)
    throw InputError(
        fmt::format("{}/trace.jsonl: the shard plan's arms and cells do not agree", s.dir));
  p.repeat = cells / static_cast<int>(p.arms.size());
  return p;
}

struct Cell {
  std::size_t arm = 0;
  int round = 0;
  int shard = 0;  // the K that runs it
  const Shard* from = nullptr;
  bool ended = false;  // its result record was read
  ArmRun run;
};

std::map<std::string, Cell> plan_cells(const Plan& p, int n) {
  std::map<std::string, Cell> cells;
  for (int round = 0; round < p.repeat; ++round)
    for (std::size_t i = 0; i < p.arms.size(); ++i) {
      Cell c;
      c.arm = i;
      c.round = round;
      c.shard = static_cast<int>((static_cast<std::size_t>(round) * p.arms.size() + i) %
                                 static_cast<std::size_t>(n)) +
                1;
      c.run.name = p.cell_name(i, round);
      c.run.config = p.knobs[i];
      const std::string name = c.run.name;
      cells.emplace(name, std::move(c));
    }
  return cells;
}

void add_record(Cell& cell, const Shard& s, const trace::Record& r) {
  if (cell.shard != s.k || (cell.from && cell.from != &s))
    throw InputError(fmt::format("{}/trace.jsonl: records of cell {}, which shard {}/{} runs",
                                 s.dir, cell.run.name, cell.shard, s.n));
  cell.from = &s;
  if (r.pid != 0 && cell.run.pid == 0) cell.run.pid = r.pid;
  if (r.type == trace::RecordType::arm && r.edge == trace::Edge::result) {
    // soak's own reading never sees this record (it writes it after judging), so neither does
    // merge's.
    cell.ended = true;
    cell.run.status = parse_arm_status(r.text(trace::key::kStatus)).value_or(ArmStatus::failed);
    cell.run.status_detail = r.text(trace::key::kStatusDetail);
    return;
  }
  cell.run.records.add(r);
}

// Streams every shard's records into the merged trace and each cell's reading.
void read_cells(const std::vector<Shard>& shards, std::map<std::string, Cell>& cells,
                trace::FileWriter& out) {
  for (const auto& s : shards) {
    trace::Reader reader(trace::Source::open(s.dir + "/trace.jsonl", "shard trace"));
    while (auto r = reader.next()) {
      if (r->type == trace::RecordType::header) continue;
      out.write(*r);
      if (r->arm.empty()) continue;
      auto it = cells.find(r->arm);
      if (it == cells.end())
        throw InputError(
            fmt::format("{}/trace.jsonl: records of arm '{}', no cell of the plan", s.dir, r->arm));
      add_record(it->second, s, *r);
    }
  }
  for (const auto& [name, c] : cells)
    if (!c.ended)
      throw InputError(
          fmt::format("shard {}/{} has no result for cell {}: its trace ends before "
                      "the arm did; run that shard again",
                      c.shard, shards.front().n, name));
}

// The config soak reported for the arm (with --threads applied), as the shard's summary has it.
void take_reported_config(Cell& cell, const Plan& plan) {
  for (const auto& a : cell.from->summary.arms)
    if (a.name == plan.arms[cell.arm] && !a.config.empty()) cell.run.config = a.config;
}

RunSummary merged_facts(const std::vector<Shard>& shards) {
  const RunSummary& first = shards.front().summary;
  RunSummary m;
  m.tool_version = first.tool_version;
  m.ort_version = first.ort_version;
  m.model_path = first.model_path;
  m.model_sha256 = first.model_sha256;
  m.scenario = first.scenario;
  m.seed = first.seed;
  m.started_at = first.started_at;
  m.options = first.options;
  m.options.erase("shard");
  std::set<std::string> hosts, notes;
  nlohmann::json merged_from = nlohmann::json::array();
  for (const auto& s : shards) {
    hosts.insert(s.summary.host);
    m.started_at = std::min(m.started_at, s.summary.started_at);
    merged_from.push_back({{"shard", fmt::format("{}/{}", s.k, s.n)},
                           {"host", s.summary.host},
                           {"started_at", s.summary.started_at},
                           {"command_line", s.summary.options.value("command_line", "")}});
    for (const auto& note : s.summary.notes)
      if (notes.insert(note).second) m.notes.push_back(fmt::format("shard {}: {}", s.k, note));
  }
  for (const auto& h : hosts) m.host += (m.host.empty() ? "" : ", ") + h;
  m.options["merged_from"] = merged_from;
  return m;
}

fs::path out_path(const std::string& out_dir) {
  fs::path p = fs::absolute(out_dir).lexically_normal();
  return p.filename().empty() ? p.parent_path() : p;
}

std::string make_temp_dir_beside(const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out.parent_path(), ec);
  if (ec)
    throw WriteError(fmt::format("-o {}: cannot create {}: {}", out.string(),
                                 out.parent_path().string(), ec.message()));
  std::string tmpl =
      (out.parent_path() / ("." + out.filename().string() + ".merge-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw WriteError(fmt::format("-o {}: cannot create a temp directory beside it: {}",
                                 out.string(), std::strerror(errno)));
  return tmpl;
}

// Everything is written into `tmp`; the caller renames it into place.
RunSummary write_merged(const std::vector<Shard>& shards, const MergeOptions& options,
                        const std::string& tmp) {
  const Plan plan = plan_of(shards.front());
  std::map<std::string, Cell> cells = plan_cells(plan, shards.front().n);
  {
    trace::FileWriter trace_file(tmp + "/trace.jsonl");
    trace::Record header = shards.front().header;
    header.extra.erase("shard");
    header.extra["merged_shards"] = shards.front().n;
    trace_file.write(header);
    read_cells(shards, cells, trace_file);
    trace_file.check(/*sync=*/true);
  }
  const bool injected = shards.front().header.value(Figure::inject_leak_bytes).value_or(0) > 0;
  std::vector<std::vector<ArmSummary>> repeats(plan.arms.size());
  for (int round = 0; round < plan.repeat; ++round)
    for (std::size_t i = 0; i < plan.arms.size(); ++i) {
      Cell& cell = cells.at(plan.cell_name(i, round));
      take_reported_config(cell, plan);
      repeats[i].push_back(summarize_arm_run(cell.run, injected));
    }
  RunSummary summary = merged_facts(shards);
  if (!options.command_line.empty()) summary.options["command_line"] = options.command_line;
  add_gated_arms(summary, plan.arms, std::move(repeats), options.gate);
  write_run_reports(summary, tmp);
  return summary;
}

}  // namespace

void check_merge_out(const std::string& out_dir) {
  std::error_code ec;
  const auto status = fs::symlink_status(out_dir, ec);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status) || !fs::is_empty(out_dir, ec) || ec)
    throw InputError(fmt::format(
        "-o {}: it exists and is not an empty directory; give a new or empty directory", out_dir));
}

RunSummary merge_shards(const MergeOptions& options) {
  check_merge_out(options.out_dir);
  if (options.shard_dirs.empty()) throw InputError("merge: give the shards' run directories");
  std::vector<Shard> shards;
  for (const auto& dir : options.shard_dirs) shards.push_back(load_shard(dir));
  for (std::size_t i = 1; i < shards.size(); ++i) check_one_plan(shards.front(), shards[i]);
  check_complete(shards);

  const fs::path out = out_path(options.out_dir);
  const std::string tmp = make_temp_dir_beside(out);
  try {
    RunSummary summary = write_merged(shards, options, tmp);
    // rename(2) replaces an empty directory (checked above) in one step.
    if (::rename(tmp.c_str(), out.c_str()) != 0)
      throw WriteError(fmt::format("-o {}: cannot rename {} to it: {}", out.string(), tmp,
                                   std::strerror(errno)));
    return summary;
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace infermem
