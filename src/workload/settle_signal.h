#pragma once
// soak --until-confident: the parent tells a worker its arm's verdict is settled with SIGUSR1.
// The worker then ends phase infer as --duration would, unloads, writes its end record and
// exits 0, as a run to the end does, so the run directory is complete.
#include <csignal>

namespace infermem {

// The signal the parent sends (to the worker's pid) when the arm's verdict is settled.
inline constexpr int kSettleSignal = SIGUSR1;
// Installs the worker's handler of kSettleSignal (sets a flag, async-signal-safe).
void install_settle_handler();
// kSettleSignal has arrived.
bool settle_requested();

}  // namespace infermem
