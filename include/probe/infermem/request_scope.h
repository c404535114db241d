#pragma once
// RequestScope: the memory of one request in a running service, cheap enough to leave on.
//
//   infermem::RequestScope scope;          // reads /proc/self/statm, resets VmHWM
//   auto out = session.Run(...);
//   infermem::RequestFigures f = scope.close();  // statm again, the mark (getrusage or status)
//   log("rss {} growth {} peak {}", f.rss_end_bytes, f.growth_bytes, f.peak_bytes);
//
// What the figures are (docs/guide.md, "RequestScope"):
// - growth: the process's resident set (statm) at close minus at open. It is the process's, not
//   the request's own allocations: other threads' work shows in it too.
// - peak: the process's resident high-water mark (VmHWM) during the scope. The kernel's mark is
//   reset (`echo 5 > /proc/self/clear_refs`) when a scope opens and no other scope is open, so
//   with one request at a time the peak is the process's peak during that request, counted by
//   the kernel on every page fault (no sampling: a short spike is not missed). With overlapping
//   scopes the mark is not reset under a scope still open: a scope's peak then covers from the
//   earliest open scope's start (it can be higher than the request's own, never lower), and
//   `peak_shared` says so. Where clear_refs cannot be written (a read-only /proc, some
//   sandboxes), the peak is absent (NaN), never the lifetime high-water mark passed off as the
//   request's. The mark is read with getrusage(ru_maxrss) when that is the mark (it also keeps
//   the marks of exited threads, which clear_refs does not reset: then /proc/self/status).
// - allocator in-use growth (optional, off by default: mallinfo2 walks every arena under its lock).
//
// Thread-safe: scopes may open and close on any threads. A scope is closed once; the destructor
// closes it if close() was not called (its figures are then dropped).
#include <cstdint>

namespace infermem {

struct RequestFigures {
  double rss_start_bytes = 0;  // VmRSS at open (statm resident pages)
  double rss_end_bytes = 0;    // VmRSS at close
  double growth_bytes = 0;     // end - start (negative when memory was given back)
  double peak_bytes = 0;       // VmHWM since the scope opened (see above); NaN when unknown
  bool peak_shared = false;    // another scope was open: the peak covers a longer window
  double allocator_in_use_growth_bytes = 0;  // NaN unless RequestScopeOptions::allocator
  double duration_ms = 0;
};

struct RequestScopeOptions {
  bool peak = true;        // reset and read the mark (two or three more system calls a scope)
  bool allocator = false;  // mallinfo2 in-use bytes at open and close
};

class RequestScope {
 public:
  explicit RequestScope(RequestScopeOptions options = {});
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

  // The figures; a second call returns the same figures.
  RequestFigures close();
  bool closed() const { return closed_; }

 private:
  RequestScopeOptions options_;
  bool closed_ = false;
  bool peak_reset_ = false;  // this scope reset the mark (no other scope was open)
  std::int64_t start_ns_ = 0;
  double rusage_open_bytes_ = 0;
  RequestFigures figures_;
};

// The figures behind RequestScope, for callers that keep their own loop (the GoogleTest
// assertions, the Python module). Each is a few system calls; NaN when unreadable.
namespace self {
double rss_bytes();               // /proc/self/statm resident * page size
double hwm_bytes();               // VmHWM from /proc/self/status
bool reset_hwm();                 // echo 5 > /proc/self/clear_refs; false where not allowed
double allocator_in_use_bytes();  // glibc mallinfo2 uordblks + hblkhd (NaN on other allocators)
}  // namespace self

}  // namespace infermem
