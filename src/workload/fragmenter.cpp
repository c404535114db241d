#include "workload/fragmenter.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace infermem {
namespace {

// Every pin ever made, reachable from a static: fragmentation, not a leak.
std::vector<void*>& pins() {
  static auto* list = new std::vector<void*>();
  return *list;
}

void keep(const std::vector<void*>& blocks) {
  static std::mutex mu;  // --concurrency: threads fragment at once
  std::lock_guard<std::mutex> lock(mu);
  pins().insert(pins().end(), blocks.begin(), blocks.end());
}

// The chunks of a thread's previous request, still at their full size; kept reachable when the
// thread ends.
struct Previous {
  std::vector<void*> chunks;
  ~Previous() { keep(chunks); }
};

}  // namespace

void inject_fragmentation(std::uint64_t bytes) {
  if (bytes == 0) return;
  thread_local Previous previous;
  const std::size_t chunks = (bytes + kFragmentChunkBytes - 1) / kFragmentChunkBytes;
  const std::size_t chunk = (bytes + chunks - 1) / chunks;
  std::vector<void*> fresh;
  fresh.reserve(chunks);
  for (std::size_t i = 0; i < chunks; ++i) {
    void* p = std::malloc(chunk);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0x5c, chunk);  // touched: resident, as the buffers of a real workload are
    fresh.push_back(p);
  }
  // Each previous chunk is followed by a live one (the next previous chunk, or a fresh one), so
  // the tail a shrink frees is a hole bounded on both sides.
  std::vector<void*> shrunk;
  shrunk.reserve(previous.chunks.size());
  for (void* p : previous.chunks) {
    void* pin = std::realloc(p, kFragmentPinBytes);  // shrinks in place on glibc
    shrunk.push_back(pin ? pin : p);
  }
  previous.chunks = std::move(fresh);
  keep(shrunk);
}

}  // namespace infermem
