#pragma once
// soak --inject-fragmentation SIZE: heap fragmentation made on purpose, in the child, so the
// fragmentation verdict can be calibrated on workloads known to fragment (docs/verdicts.md).
#include <cstddef>
#include <cstdint>

namespace infermem {

// The largest chunk the fragmenter allocates: below glibc's smallest mmap threshold (128 KiB),
// so every chunk comes from the heap, not from its own mapping (which free would unmap).
inline constexpr std::size_t kFragmentChunkBytes = 64 * 1024;
// What each chunk keeps in use after it is shrunk (a pin between two holes).
inline constexpr std::size_t kFragmentPinBytes = 64;

// Per request, on the calling thread: allocates `bytes` of heap in equal chunks of at most
// kFragmentChunkBytes and touches them, then shrinks the chunks of this thread's previous call
// in place (realloc) to kFragmentPinBytes pins. Each shrink frees the chunk's tail between its
// pin and the next live chunk, so the allocator's free bytes grow by about `bytes` a request
// while its in-use bytes grow by a pin a chunk: the holes are smaller than the next chunks (they
// cannot be reused for them) and are not at the top of the heap (a trim of the top cannot return
// them). The pins stay reachable, so LeakSanitizer runs stay clean. 0 does nothing.
void inject_fragmentation(std::uint64_t bytes);

}  // namespace infermem
