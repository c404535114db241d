#pragma once
// Errors a user can act on. Each maps to one exit code of the command contract (README.md):
// 2 usage or input error, 3 the workload failed when that was not expected, 4 an internal error
// (an unexpected exception: a bug in infermem, to be reported), 5 an output could not be written
// (full disk, I/O error).
#include <stdexcept>
#include <string>

namespace infermem {

inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitWorkload = 3;
inline constexpr int kExitInternal = 4;
inline constexpr int kExitWriteFailed = 5;
inline constexpr int kExitInterrupted = 130;

// Bad flag, bad file, dead pid: the message names what was wrong. Exit code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The workload itself failed (ORT refused to run, the child could not start). Exit code 3.
class WorkloadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace infermem

namespace infermem {

// An output could not be written: the message names the path and the OS reason ("No space left
// on device"). Exit code 5. What was written so far is kept and said to be incomplete.
class WriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace infermem
