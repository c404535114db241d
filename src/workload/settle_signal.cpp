#include "workload/settle_signal.h"

namespace infermem {
namespace {

volatile std::sig_atomic_t g_settled = 0;

extern "C" void on_settle_signal(int) {
  g_settled = 1;
}

}  // namespace

void install_settle_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_settle_signal;
  sa.sa_flags = SA_RESTART;  // the worker's reads and writes carry on
  sigemptyset(&sa.sa_mask);
  sigaction(kSettleSignal, &sa, nullptr);
}

bool settle_requested() {
  return g_settled != 0;
}

}  // namespace infermem
