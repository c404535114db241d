#pragma once
// A forked child that allocates and frees memory on command through a pipe, so live tests can
// measure a process whose memory they know exactly. The child uses mmap directly (no malloc, no
// sanitizer allocator) so what it does is what the kernel sees.
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <stdexcept>
#include <string>

namespace infermem::test {

class ControlledChild {
 public:
  static constexpr unsigned long long kBlockBytes = 256ull << 20;  // 'allocate' / 'free'
  static constexpr unsigned long long kSpikeBytes = 128ull << 20;  // 'begin_spike' / 'end_spike'

  ControlledChild();
  ~ControlledChild();  // asks the child to exit and reaps it
  ControlledChild(const ControlledChild&) = delete;
  ControlledChild& operator=(const ControlledChild&) = delete;

  pid_t pid() const { return pid_; }
  // Each returns when the child has done it.
  void allocate_block();  // maps and touches kBlockBytes
  void free_block();      // unmaps it
  // A spike held until the caller ends it, so a test can wait for an outside observer (a
  // sampler) to see it instead of guessing how long that takes on a busy machine.
  void begin_spike();  // maps and touches kSpikeBytes
  void end_spike();    // unmaps it

 private:
  void command(char c);
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
};

// ---- implementation (header-only: tests/<stage> builds only *_test.cpp files) ----

namespace child_detail {

// Writes one byte per page. Not instrumented: the sanitizer's checks would read shadow memory.
__attribute__((no_sanitize("address", "undefined"))) inline void touch(char* p,
                                                                       unsigned long long bytes) {
  for (unsigned long long i = 0; i < bytes; i += 4096) p[i] = 1;
}

inline char* map_touched(unsigned long long bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) _exit(10);
  touch(static_cast<char*>(p), bytes);
  return static_cast<char*>(p);
}

[[noreturn]] inline void child_loop(int in, int out) {
  char* block = nullptr;
  char* spike = nullptr;
  char c;
  while (read(in, &c, 1) == 1) {
    if (c == 'a' && !block) {
      block = map_touched(ControlledChild::kBlockBytes);
    } else if (c == 'f' && block) {
      munmap(block, ControlledChild::kBlockBytes);
      block = nullptr;
    } else if (c == 's' && !spike) {
      spike = map_touched(ControlledChild::kSpikeBytes);
    } else if (c == 'e' && spike) {
      munmap(spike, ControlledChild::kSpikeBytes);
      spike = nullptr;
    } else if (c == 'q') {
      break;
    }
    if (write(out, &c, 1) != 1) break;
  }
  _exit(0);
}

}  // namespace child_detail

inline ControlledChild::ControlledChild() {
  int down[2], up[2];
  if (pipe(down) != 0 || pipe(up) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    close(down[1]);
    close(up[0]);
    child_detail::child_loop(down[0], up[1]);
  }
  close(down[0]);
  close(up[1]);
  to_child_ = down[1];
  from_child_ = up[0];
}

inline ControlledChild::~ControlledChild() {
  char q = 'q';
  if (write(to_child_, &q, 1) != 1) kill(pid_, SIGKILL);
  close(to_child_);
  close(from_child_);
  int status = 0;
  waitpid(pid_, &status, 0);
}

inline void ControlledChild::command(char c) {
  char ack = 0;
  if (write(to_child_, &c, 1) != 1 || read(from_child_, &ack, 1) != 1 || ack != c)
    throw std::runtime_error(std::string("child did not do '") + c + "'");
}

inline void ControlledChild::allocate_block() {
  command('a');
}
inline void ControlledChild::free_block() {
  command('f');
}
inline void ControlledChild::begin_spike() {
  command('s');
}
inline void ControlledChild::end_spike() {
  command('e');
}

}  // namespace infermem::test
