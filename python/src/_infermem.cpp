// infermem's Python module: readings of this process, the sampler, RequestScope, judge() on a
// series, and the loop check behind the pytest plugin. A thin layer: every figure comes from the
// C++ library; verdicts cross as JSON (Verdict::to_json), the same keys analyze --json writes.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "infermem/error.h"
#include "infermem/loop_check.h"
#include "infermem/probe.h"
#include "infermem/request_scope.h"
#include "infermem/sampler.h"
#include "infermem/series.h"
#include "infermem/units.h"
#include "infermem/verdict.h"
#include "infermem/version.h"

namespace py = pybind11;
using namespace infermem;

namespace {

py::object figure(double v) {
  return std::isfinite(v) ? py::object(py::float_(v)) : py::object(py::none());
}

py::dict reading_dict(const probe::Reading& r) {
  py::dict d;
  for (auto [f, value] : r.values) d[py::str(std::string(name(f)))] = value;
  return d;
}

py::dict figures_dict(const RequestFigures& f) {
  py::dict d;
  d["rss_start_bytes"] = figure(f.rss_start_bytes);
  d["rss_end_bytes"] = figure(f.rss_end_bytes);
  d["growth_bytes"] = figure(f.growth_bytes);
  d["peak_bytes"] = figure(f.peak_bytes);
  d["peak_shared"] = f.peak_shared;
  d["allocator_in_use_growth_bytes"] = figure(f.allocator_in_use_growth_bytes);
  d["duration_ms"] = f.duration_ms;
  return d;
}

py::object json_to_python(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

std::vector<double> column(const std::optional<std::vector<double>>& v, std::size_t n,
                           const char* what) {
  if (!v) return std::vector<double>(n, kAbsent);
  if (v->size() != n)
    throw InputError(std::string("judge: ") + what + " has " + std::to_string(v->size()) +
                     " values, current has " + std::to_string(n));
  return *v;
}

// judge(current, requests=None, t_ms=None, allocator_in_use=None, hwm=None, anon=None):
// one value per point; None or NaN marks an absent figure.
py::object judge_series(const std::vector<double>& current,
                        const std::optional<std::vector<double>>& requests,
                        const std::optional<std::vector<double>>& t_ms,
                        const std::optional<std::vector<double>>& allocator_in_use,
                        const std::optional<std::vector<double>>& hwm,
                        const std::optional<std::vector<double>>& anon, const std::string& name) {
  std::size_t n = current.size();
  auto req = column(requests, n, "requests");
  auto t = column(t_ms, n, "t_ms");
  auto in_use = column(allocator_in_use, n, "allocator_in_use");
  auto h = column(hwm, n, "hwm");
  auto a = column(anon, n, "anon");
  Series s;
  s.name = name;
  s.current_source = "given to infermem.judge()";
  for (std::size_t i = 0; i < n; ++i) {
    SeriesPoint p;
    p.current_bytes = current[i];
    p.req = requests ? static_cast<std::int64_t>(req[i]) : static_cast<std::int64_t>(i);
    p.t_ms = t_ms ? t[i] : kAbsent;
    p.allocator_in_use_bytes = in_use[i];
    p.hwm_bytes = h[i];
    p.anon_bytes = a[i];
    s.points.push_back(p);
  }
  Verdict v;
  {
    py::gil_scoped_release release;
    v = judge(s);
  }
  return json_to_python(v.to_json());
}

py::dict report_dict(const LoopReport& r) {
  py::dict d;
  d["passed"] = r.passed;
  d["growth_failed"] = r.growth_failed;
  d["peak_failed"] = r.peak_failed;
  d["undecided"] = r.undecided;
  d["iterations"] = r.iterations;
  d["kind"] = r.kind;
  d["rate_bytes"] = figure(r.rate_bytes);
  d["rate_ci_bytes"] = py::make_tuple(figure(r.rate_ci_low_bytes), figure(r.rate_ci_high_bytes));
  d["rate_source"] = r.rate_source;
  d["min_detectable_bytes"] = figure(r.min_detectable_bytes);
  d["rss_before_bytes"] = figure(r.rss_before_bytes);
  d["peak_bytes"] = figure(r.peak_bytes);
  d["message"] = r.message;
  d["verdict"] = json_to_python(nlohmann::json::parse(r.verdict_json));
  return d;
}

LoopLimits make_limits(double max_growth, std::optional<double> max_peak,
                       std::size_t min_iterations, std::size_t max_iterations,
                       bool allow_undecided) {
  LoopLimits l;
  l.max_growth_bytes = max_growth;
  l.max_peak_bytes = max_peak ? *max_peak : kAbsent;
  l.min_iterations = min_iterations;
  l.max_iterations = max_iterations;
  l.allow_undecided = allow_undecided;
  return l;
}

}  // namespace

PYBIND11_MODULE(_infermem, m) {
  m.doc() = "infermem: memory readings, request scopes and leak verdicts (C++ library binding)";
  m.attr("__version__") = INFERMEM_VERSION;
  py::register_exception<InputError>(m, "InputError", PyExc_ValueError);

  m.def("rss_bytes", &self::rss_bytes, "This process's resident set (/proc/self/statm), bytes");
  m.def("hwm_bytes", &self::hwm_bytes, "This process's VmHWM (/proc/self/status), bytes");
  m.def("reset_hwm", &self::reset_hwm, "Reset VmHWM (clear_refs 5); False where not allowed");
  m.def("allocator_in_use_bytes", &self::allocator_in_use_bytes,
        "Bytes the C allocator has handed out and not freed (glibc mallinfo2, jemalloc, "
        "tcmalloc); None-like NaN elsewhere");
  m.def(
      "read_self", [](unsigned sources) { return reading_dict(probe::read_self(sources)); },
      py::arg("sources") = static_cast<unsigned>(probe::kAll),
      "Every figure the probe reads for this process: status, smaps_rollup, cgroup, allocator");
  m.def(
      "read_process", [](int pid) { return reading_dict(probe::read_process(pid)); },
      py::arg("pid"), "Another process's figures from /proc/PID (status, smaps_rollup, cgroup)");
  m.def(
      "parse_size", [](const std::string& text) { return parse_size(text, "size"); },
      py::arg("text"), "'16KiB' -> 16384");
  m.def("format_bytes", &format_bytes, py::arg("bytes"));

  py::class_<probe::Sampler>(m, "Sampler", "Background sampler of a process (1 kHz default)")
      .def(py::init([](int pid, double rate_hz, std::size_t ring_capacity) {
             probe::SamplerOptions o;
             o.pid = pid;
             o.rate_hz = rate_hz;
             o.ring_capacity = ring_capacity;
             return std::make_unique<probe::Sampler>(o);
           }),
           py::arg("pid") = 0, py::arg("rate_hz") = 1000.0, py::arg("ring_capacity") = 4096)
      .def("start", &probe::Sampler::start, py::call_guard<py::gil_scoped_release>())
      .def("stop", &probe::Sampler::stop, py::call_guard<py::gil_scoped_release>())
      .def("begin_scope", &probe::Sampler::begin_scope)
      .def(
          "end_scope", [](probe::Sampler& s) { return reading_dict(s.end_scope()); },
          "The maximum of every figure since begin_scope()")
      .def("drain",
           [](probe::Sampler& s) {
             py::list out;
             for (const auto& [t_ms, reading] : s.drain())
               out.append(py::make_tuple(t_ms, reading_dict(reading)));
             return out;
           })
      .def_property_readonly("samples_taken", &probe::Sampler::samples_taken)
      .def_property_readonly("samples_dropped", &probe::Sampler::samples_dropped);

  py::class_<RequestScope>(m, "RequestScope",
                           "Peak and growth of one request: with infermem.RequestScope() as s")
      .def(py::init([](bool peak, bool allocator) {
             return std::make_unique<RequestScope>(RequestScopeOptions{peak, allocator});
           }),
           py::arg("peak") = true, py::arg("allocator") = false)
      .def("close", [](RequestScope& s) { return figures_dict(s.close()); })
      .def("__enter__", [](RequestScope& s) -> RequestScope& { return s; })
      .def("__exit__", [](RequestScope& s, py::args) {
        s.close();
        return false;
      });

  m.def("judge", &judge_series, py::arg("current"), py::arg("requests") = py::none(),
        py::arg("t_ms") = py::none(), py::arg("allocator_in_use") = py::none(),
        py::arg("hwm") = py::none(), py::arg("anon") = py::none(), py::arg("name") = "series",
        "The verdict engine on a series, one value per point; returns the verdict as a dict "
        "(kind, growth_bytes_per_request, growth_ci_bytes_per_request, "
        "min_detectable_bytes_per_request, evidence, causes, remediations, ...)");

  py::class_<LoopCheck>(m, "LoopCheck", "The loop check behind the pytest plugin")
      .def(
          py::init([](double max_growth, std::optional<double> max_peak, std::size_t min_iterations,
                      std::size_t max_iterations, bool allow_undecided) {
            return std::make_unique<LoopCheck>(
                make_limits(max_growth, max_peak, min_iterations, max_iterations, allow_undecided));
          }),
          py::arg("max_growth"), py::arg("max_peak") = py::none(),
          py::arg("min_iterations") = LoopLimits{}.min_iterations,
          py::arg("max_iterations") = LoopLimits{}.max_iterations,
          py::arg("allow_undecided") = false)
      .def("begin", &LoopCheck::begin)
      .def("record", &LoopCheck::record)
      .def("need_more", &LoopCheck::need_more)
      .def("target", &LoopCheck::target)
      .def("finish", [](LoopCheck& c) { return report_dict(c.finish()); });
}
