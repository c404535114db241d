#include "cli/run_flags.h"

#include <fmt/format.h>
#include <algorithm>
#include <csignal>

#include "infermem/error.h"
#include "infermem/units.h"

namespace infermem::cli {
namespace {

void on_signal(int) {
  request_soak_stop();
}

}  // namespace

std::uint64_t parse_memory_limit(const std::string& text) {
  if (text == "none") return 0;
  std::uint64_t bytes = parse_size(text, "--memory-limit");
  if (bytes == 0)
    throw InputError(
        "--memory-limit: '0' is no limit a process can run under; use 'none' for "
        "no limit");
  if (bytes < kMinMemoryLimitBytes)
    throw InputError(fmt::format(
        "--memory-limit: '{}' ({}) is below {}, the least accepted: ONNX Runtime needs about 10 "
        "MiB to start and load even a tiny model; give {} or more, or 'none' for no limit",
        text, format_bytes(static_cast<double>(bytes)),
        format_bytes(static_cast<double>(kMinMemoryLimitBytes)),
        format_bytes(static_cast<double>(kMinMemoryLimitBytes))));
  return bytes;
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void ProgressPrinter::operator()(const SoakProgress& p) {
  if (!p.line.empty()) {
    if (tty_ && bar_shown_) fmt::print(stderr, "\r\033[K");
    bar_shown_ = false;
    fmt::print(stderr, "  {}\n", p.line);
    last_tenth_ = 0;
    return;
  }
  if (p.requests_total <= 0) return;
  double done =
      std::min(1.0, static_cast<double>(p.requests_done) / static_cast<double>(p.requests_total));
  if (tty_) {
    constexpr int kWidth = 30;
    int filled = static_cast<int>(done * kWidth);
    fmt::print(stderr, "\r\033[K  {:<14} [{}{}] {}/{}  RSS {}  HWM {}", p.arm,
               std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(kWidth - filled), ' '), p.requests_done,
               p.requests_total, format_bytes(p.rss_bytes), format_bytes(p.hwm_bytes));
    bar_shown_ = true;
    return;
  }
  int tenth = static_cast<int>(done * 10);
  if (tenth > last_tenth_) {
    last_tenth_ = tenth;
    fmt::print(stderr, "  arm {}: {}/{} requests, RSS {} (VmHWM {})\n", p.arm, p.requests_done,
               p.requests_total, format_bytes(p.rss_bytes), format_bytes(p.hwm_bytes));
  }
}

}  // namespace infermem::cli
