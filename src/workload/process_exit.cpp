#include "infermem/process_exit.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <csignal>
#include <cstring>

#include "infermem/units.h"

namespace infermem {
namespace {

// One template of the wording with every named argument the classifier knows.
std::string say(const std::string& text, const ProcessEnd& end, int code, const std::string& signal,
                const std::string& last) {
  return fmt::format(fmt::runtime(text), fmt::arg("at", end.at), fmt::arg("code", code),
                     fmt::arg("program", end.program), fmt::arg("signal", signal),
                     fmt::arg("timeout_ms", end.timeout_ms), fmt::arg("ended", end.ended),
                     fmt::arg("error", end.report ? end.report->error : std::string()),
                     fmt::arg("cgroup", end.cgroup_version),
                     fmt::arg("limit", format_bytes(end.memory_limit_bytes)),
                     fmt::arg("kills", end.oom_kills), fmt::arg("last", last));
}

ExitClass exited(const ProcessEnd& end, const ExitWording& w, int code) {
  ExitClass out;
  const bool finished_ok = end.report && end.report->finished_ok;
  auto words = [&](const std::string& text) { return say(text, end, code, "", ""); };
  if (end.stop == Stop::interrupted && !finished_ok) {
    out.status = ArmStatus::interrupted;
    out.detail = words(w.interrupted);
    return out;
  }
  out.exit_code = code;
  if (code == 0 && (!end.report || finished_ok)) {
    out.status = ArmStatus::ok;
    out.detail = words(w.ok);
  } else if (!end.report) {
    out.status = ArmStatus::failed;  // a command's own exit code is its answer
    out.detail = words(w.exited);
  } else if (end.report->reported_end && !end.report->error.empty()) {
    // The workload said what went wrong (ORT rejected an input, the model did not load).
    out.status = ArmStatus::failed;
    out.detail = words(w.failed);
  } else {
    out.status = ArmStatus::crashed;  // a worker that did not say it finished did not
    out.detail = words(code == 127 && !w.could_not_start.empty() ? w.could_not_start : w.exited);
  }
  return out;
}

}  // namespace

SelfReport self_report_of(const ArmAccumulator& records) {
  return {records.child_reported_end(), records.child_finished_ok(), records.child_error()};
}

const ExitWording& worker_wording() {
  static const ExitWording w{
      "",
      "exited with code {code}",
      "could not start {program}",
      "at request {at}: {error}",
      "killed by {signal} at request {at}",
      "killed by the kernel's OOM killer at request {at} (cgroup v{cgroup} limit {limit}; "
      "oom_kill count {kills}){last}",
      "; last sampled RSS {rss}",
      "",
      "killed after {timeout_ms:.0f} ms",
      "stopped by Ctrl-C",
      "stopped by infermem when the run ended: {ended}"};
  return w;
}

const ExitWording& command_wording() {
  static const ExitWording w{
      "exited with status {code}",
      "exited with status {code}",
      "",
      "at {at}: {error}",
      "killed by {signal}",
      "killed by the kernel's OOM killer at {at} under --memory-limit {limit} (cgroup "
      "v{cgroup}, oom_kill count {kills}){last}",
      "; last tree memory sampled {rss}",
      "; last tree memory sampled -",
      "killed after {timeout_ms:.0f} ms",
      "stopped by infermem when the watch ended: {ended}",
      "stopped by infermem when the watch ended: {ended}"};
  return w;
}

ExitClass classify_exit(const ProcessEnd& end, const ExitWording& w) {
  const int st = end.wait_status;
  if (end.stop == Stop::at_end)
    return {ArmStatus::ok, say(w.stopped_at_end, end, 0, "", ""), {}, {}};
  if (WIFEXITED(st)) return exited(end, w, WEXITSTATUS(st));
  ExitClass out;
  if (!WIFSIGNALED(st)) return out;
  const std::string sig = signal_name(WTERMSIG(st));
  if (end.stop == Stop::timeout) {
    out.status = ArmStatus::timeout;
    out.detail = say(w.timed_out, end, 0, sig, "");
  } else if (end.stop == Stop::interrupted) {
    out.status = ArmStatus::interrupted;
    out.detail = say(w.interrupted, end, 0, sig, "");
  } else if (WTERMSIG(st) == SIGKILL && end.oom_kills > 0) {
    out.status = ArmStatus::oom_killed;
    out.signal = sig;
    const std::string last = present(end.last_rss_bytes)
                                 ? fmt::format(fmt::runtime(w.last_rss),
                                               fmt::arg("rss", format_bytes(end.last_rss_bytes)))
                                 : w.last_rss_unknown;
    out.detail = say(w.oom, end, 0, sig, last);
  } else {
    out.status = ArmStatus::crashed;
    out.signal = sig;
    out.detail = say(w.killed, end, 0, sig, "");
  }
  return out;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

}  // namespace infermem
