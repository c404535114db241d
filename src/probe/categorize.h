#pragma once
// Sorts the mappings of /proc/PID/smaps into the snapshot's categories (onnxruntime, libraries,
// mapped files, heap, anonymous, thread stacks, shared memory, other). Heuristics documented in
// docs/measurement.md; kept apart from file reading so recorded smaps texts test them.
#include <vector>

#include "infermem/probe.h"
#include "probe/proc_parse.h"

namespace infermem::probe {

// Largest PROT_NONE mapping taken for a thread stack's guard page (glibc's default is one page;
// a 64 KiB page kernel or a raised guardsize stays under this). Larger PROT_NONE regions are
// address-space reservations, such as the tail of a glibc arena heap.
inline constexpr std::uint64_t kMaxGuardBytes = 64 * 1024;

// The category of mappings[index] (its predecessor decides whether it is a thread stack).
Category classify(const std::vector<Mapping>& mappings, std::size_t index);

// Adds every mapping to its category and to the total.
void tally_mappings(const std::vector<Mapping>& mappings,
                    CategoryUsage (&categories)[kCategoryCount], CategoryUsage& total);

}  // namespace infermem::probe
