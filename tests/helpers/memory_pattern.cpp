// A process whose memory follows a known pattern, for watch's end-to-end tests. Memory is mapped
// with mmap and touched page by page (no malloc), so what it does is what the kernel counts.
// Built without sanitizers: the pattern, not a runtime's shadow memory, is what is measured.
//
//   memory_pattern leak BYTES PERIOD_MS          BYTES more every PERIOD_MS, kept (a steady leak)
//   memory_pattern sawtooth BYTES STEPS PERIOD_MS up STEPS x BYTES, then all freed; again
//   memory_pattern plateau BYTES STEPS PERIOD_MS up STEPS x BYTES, then held
//   memory_pattern hold BYTES                    BYTES once, then held
//   memory_pattern prefork CHILDREN BYTES        CHILDREN children each holding BYTES
// Steps are scheduled on absolute times, so a late wake-up on a busy machine catches up and the
// average rate stays exactly BYTES / PERIOD_MS. Every mode runs until killed.
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

struct Block {
  void* at;
  size_t bytes;
};

Block touch(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap");
    std::exit(1);
  }
  for (size_t off = 0; off < bytes; off += 4096) static_cast<volatile char*>(p)[off] = 1;
  return {p, bytes};
}

timespec next_tick(timespec t, long period_ms) {
  t.tv_nsec += period_ms * 1000000L;
  while (t.tv_nsec >= 1000000000L) {
    t.tv_nsec -= 1000000000L;
    ++t.tv_sec;
  }
  return t;
}

[[noreturn]] void hold_forever() {
  for (;;) pause();
}

size_t arg(char** argv, int i) {
  return static_cast<size_t>(std::strtoull(argv[i], nullptr, 10));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: memory_pattern MODE ARGS...\n");
    return 2;
  }
  const char* mode = argv[1];
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  if (!std::strcmp(mode, "hold")) {
    touch(arg(argv, 2));
    hold_forever();
  }
  if (!std::strcmp(mode, "leak") && argc == 4) {
    const size_t bytes = arg(argv, 2);
    const long period = static_cast<long>(arg(argv, 3));
    for (;;) {
      touch(bytes);
      t = next_tick(t, period);
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr);
    }
  }
  if ((!std::strcmp(mode, "sawtooth") || !std::strcmp(mode, "plateau")) && argc == 5) {
    const size_t bytes = arg(argv, 2), steps = arg(argv, 3);
    const long period = static_cast<long>(arg(argv, 4));
    std::vector<Block> blocks;
    for (;;) {
      if (blocks.size() < steps) {
        blocks.push_back(touch(bytes));
      } else if (mode[0] == 's') {
        for (const auto& b : blocks) munmap(b.at, b.bytes);
        blocks.clear();
      }
      t = next_tick(t, period);
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr);
    }
  }
  if (!std::strcmp(mode, "prefork") && argc == 4) {
    const size_t children = arg(argv, 2), bytes = arg(argv, 3);
    for (size_t i = 0; i < children; ++i)
      if (fork() == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);  // the children end with the parent
        if (getppid() == 1) _exit(0);
        touch(bytes);
        hold_forever();
      }
    hold_forever();
  }
  std::fprintf(stderr, "memory_pattern: bad arguments\n");
  return 2;
}
