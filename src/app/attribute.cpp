#include "app/attribute.h"

#include <fmt/format.h>
#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "infermem/host.h"
#include "infermem/input_file.h"
#include "infermem/units.h"

extern char** environ;

namespace infermem {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxFrames = 12;

int severity(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::leak:
      return 0;
    case VerdictKind::fragmentation:
      return 1;
    case VerdictKind::unload_retention:
      return 2;
    case VerdictKind::plateau:
      return 3;
    case VerdictKind::hwm_artifact:
      return 4;
    case VerdictKind::stable:
      return 5;
    case VerdictKind::too_short:
      return 6;
  }
  return 7;
}

// Runs argv with its standard output into out_path; the exit status (-1 when it did not start).
int run_to_file(const std::vector<std::string>& args, const std::string& out_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

const ArmSummary* worst_arm(const RunSummary& summary) {
  const ArmSummary* worst = nullptr;
  auto growth = [](const ArmSummary& a) {
    return present(a.verdict.growth_bytes_per_request) ? a.verdict.growth_bytes_per_request
                                                       : -1e300;
  };
  for (const auto& a : summary.arms) {
    if (!worst) {
      worst = &a;
      continue;
    }
    const int s = severity(a.verdict.kind), w = severity(worst->verdict.kind);
    if (s < w || (s == w && growth(a) > growth(*worst))) worst = &a;
  }
  return worst;
}

Attribution attribute_worst_arm(const SoakOptions& options, const std::vector<Arm>& arms,
                                const RunFacts& facts, const RunSummary& summary,
                                const std::function<void(const SoakProgress&)>& progress) {
  Attribution at;
  const ArmSummary* worst = worst_arm(summary);
  auto say = [&](const std::string& line) { progress(SoakProgress{at.arm, line, 0, 0, 0, 0}); };
  if (!worst) {
    at.outcome = "unavailable";
    at.message = "no arm ran, so there is nothing to attribute";
    return at;
  }
  at.arm = worst->name;
  // INFERMEM_HEAPTRACK names a heaptrack outside PATH (heaptrack_print is taken from beside it).
  std::string heaptrack, heaptrack_print;
  if (const char* chosen = std::getenv("INFERMEM_HEAPTRACK"); chosen && *chosen) {
    heaptrack = chosen;
    heaptrack_print = (fs::path(chosen).parent_path() / "heaptrack_print").string();
    if (::access(heaptrack.c_str(), X_OK) != 0 || ::access(heaptrack_print.c_str(), X_OK) != 0)
      heaptrack.clear();
  } else {
    heaptrack = find_on_path("heaptrack");
    heaptrack_print = find_on_path("heaptrack_print");
  }
  if (heaptrack.empty() || heaptrack_print.empty()) {
    at.outcome = "unavailable";
    at.message =
        "heaptrack is not installed (Debian package `heaptrack`: heaptrack and heaptrack_print "
        "on PATH, or INFERMEM_HEAPTRACK naming heaptrack); no call sites attributed, the rest of "
        "the run is unaffected";
    say("attribute: " + at.message);
    return at;
  }
#ifdef INFERMEM_SANITIZED
  at.outcome = "unavailable";
  at.message =
      "this infermem is a sanitizer build, whose runtime owns malloc: heaptrack cannot trace it";
  say("attribute: " + at.message);
  return at;
#endif
  auto arm =
      std::find_if(arms.begin(), arms.end(), [&](const Arm& a) { return a.name == worst->name; });
  if (arm == arms.end()) {
    at.outcome = "failed";
    at.message = fmt::format("arm {} is not among the run's arms", worst->name);
    return at;
  }
  const std::string dir = options.out_dir + "/attribution";
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string recording = fs::absolute(dir + "/heaptrack", ec).string();
  SoakOptions again = options;
  again.out_dir = dir;
  again.repeat = 1;
  again.attribute = false;
  again.worker_prefix = {heaptrack, "-o", recording};
  again.worker_log = dir + "/heaptrack.log";
  at.command =
      joined(again.worker_prefix) + " infermem worker " + dir + "/arm-" + arm->name + ".spec.json";
  say(fmt::format("attribute: re-running arm {} (verdict {}) under heaptrack", arm->name,
                  worst->verdict.kind));
  std::vector<std::string> notes;
  auto runs = run_arms(again, {*arm}, facts, notes, progress,
                       [](const ArmRun&) { return nlohmann::json::object(); });
  if (runs.empty() || runs[0].empty()) {
    at.outcome = "failed";
    at.message = "the arm did not run again under heaptrack";
    return at;
  }
  const ArmRun& run = runs[0][0];
  std::string data_file;
  for (const char* ext : {".zst", ".gz", ""})
    if (fs::is_regular_file(recording + ext, ec)) {
      data_file = recording + ext;
      break;
    }
  if (data_file.empty()) {
    at.outcome = "failed";
    at.message =
        fmt::format("heaptrack wrote no recording (the arm's child: {}{})", name(run.status),
                    run.status_detail.empty() ? "" : ", " + run.status_detail);
    say("attribute: " + at.message);
    return at;
  }
  at.data_file = "attribution/" + fs::path(data_file).filename().string();
  const std::string printed = dir + "/heaptrack_print.txt";
  const std::vector<std::string> print_args = {heaptrack_print,
                                               "-f",
                                               data_file,
                                               "-p",
                                               "1",
                                               "-a",
                                               "0",
                                               "-T",
                                               "0",
                                               "-l",
                                               "1",
                                               "-m",
                                               "0",
                                               "-n",
                                               "20"};
  const int rc = run_to_file(print_args, printed);
  std::string text;
  try {
    text = read_regular_file(printed, "heaptrack_print output", 256ull << 20);
  } catch (const std::exception&) {
  }
  at.sites = parse_heaptrack_print(text);
  // The frames that say where: past a dozen they are the worker's and the CLI's own callers.
  for (auto& site : at.sites)
    if (site.frames.size() > kMaxFrames) site.frames.resize(kMaxFrames);
  if (rc != 0 || at.sites.empty()) {
    at.outcome = "failed";
    at.message = fmt::format("heaptrack_print exited with {} and gave {} allocation sites", rc,
                             at.sites.size());
    say("attribute: " + at.message);
    return at;
  }
  at.outcome = "done";
  at.message = fmt::format(
      "arm {} (verdict {}) re-run under heaptrack over the same {} requests (child: {}); the "
      "top {} call stacks by bytes never freed, then by bytes held at the heap's peak "
      "(heaptrack_print --print-leaks, --print-peaks)",
      arm->name, worst->verdict.kind, run.records.figures().requests_done, name(run.status),
      at.sites.size());
  say("attribute: " + at.message);
  return at;
}

}  // namespace infermem
