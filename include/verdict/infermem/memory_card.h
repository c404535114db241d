#pragma once
// The memory card of one model (`infermem inspect --measure`): what fresh children measured, and
// the split of the steady level into parts a reviewer can act on, each with the settings that
// change it. Pure arithmetic over given measurements: no ORT, no processes (docs/memory-card.md).
#include <cstdint>
#include <string>
#include <vector>

#include "infermem/series.h"

namespace infermem {

// The peak of one child that ran the model at one input shape (after load and warm-up).
struct CardShapePeak {
  std::string shape;            // "x[1x3x320x320]", one tensor per input
  double peak_bytes = kAbsent;  // VmRSS high-water mark over warm-up and the requests
};

// What the children measured, in bytes (kAbsent when a figure could not be read). The reference
// child runs the default session; each comparison child changes one setting, at the same shape.
struct CardMeasurements {
  std::string model_path;
  std::uint64_t file_bytes = 0;
  std::uint64_t weight_bytes = 0;  // sum of the model file's initializers (inspect's weight_bytes)
  std::string ort_version;
  std::int64_t requests = 0;       // requests per child after warm-up
  std::int64_t warm_requests = 0;  // warm-up requests per child
  std::uint64_t seed = 0;
  // The reference child.
  double baseline_bytes = kAbsent;        // VmRSS: runtime initialised, no session
  double load_peak_bytes = kAbsent;       // high-water mark over session creation
  double steady_bytes = kAbsent;          // VmRSS after warm-up
  double malloc_in_use_bytes = kAbsent;   // the allocator's bytes in use after warm-up
  double malloc_free_bytes = kAbsent;     // free bytes the allocator keeps after warm-up
  double ort_code_bytes = kAbsent;        // file-backed RSS of libonnxruntime after warm-up
  double arena_reserved_bytes = kAbsent;  // ORT's CPU arena TotalAllocated (kAbsent: no arena)
  double after_unload_bytes = kAbsent;    // VmRSS once the session is released
  double after_trim_bytes = kAbsent;      // and the allocator trimmed
  // What stays, by kind: the reference child's anonymous and file-backed VmRSS and its
  // allocator's bytes in use, at the baseline and after unload and trim.
  double baseline_anon_bytes = kAbsent;
  double after_trim_anon_bytes = kAbsent;
  double baseline_file_bytes = kAbsent;
  double after_trim_file_bytes = kAbsent;
  double baseline_malloc_in_use_bytes = kAbsent;
  double after_trim_malloc_in_use_bytes = kAbsent;
  // The one-node child: its allocator's bytes in use after unload and trim minus at its baseline,
  // what ONNX Runtime keeps for any model (its CPU kernel registry, built by the first session).
  double ort_state_in_use_bytes = kAbsent;
  // The comparison children: VmRSS after warm-up with one setting changed.
  double steady_no_prepack_bytes = kAbsent;         // session.disable_prepacking=1
  double steady_no_arena_bytes = kAbsent;           // CPU arena off
  double malloc_in_use_no_prepack_bytes = kAbsent;  // the same children's malloc in use
  double malloc_in_use_no_arena_bytes = kAbsent;
  std::vector<CardShapePeak> shape_peaks;  // the first is the reference child's shape
};

// One part of the steady level.
struct CardPart {
  std::string key;         // "initializers", "prepacked", "arena", "other_heap", "ort_code", "rest"
  std::string title;       // "initializer weights", ...
  double bytes = kAbsent;  // may be negative when the setting's difference is (a note says so)
  std::string method;      // how the figure was obtained
  std::vector<std::string> settings;  // what changes it (ORT option keys, infermem arm knobs)
};

struct MemoryCard {
  CardMeasurements measured;
  std::vector<CardPart> parts;      // in a fixed order; the last is "rest", what no part explains
  double parts_bytes = kAbsent;     // the named parts summed (every part but "rest")
  double rest_bytes = kAbsent;      // steady - parts_bytes
  double retained_bytes = kAbsent;  // (after trim, or after unload) - baseline
  // The split of what stays after unload and trim, each with what changes it; the last is
  // "rest" (retained minus the parts: shared memory, rounding).
  std::vector<CardPart> retained_parts;
  double largest_shape_peak_bytes = kAbsent;
  std::vector<std::string> notes;  // figures that could not be read, negative differences
};

// The split: initializers from the file; prepacked = steady - steady without prepacking; arena =
// steady - steady with the arena off; other heap = the allocator's heap (in use + free) -
// initializers - prepacked - arena; ORT code = its file-backed pages; rest = steady - all of them.
// A part whose inputs are absent is absent (and left out of the sum, with a note).
// What stays after unload and trim splits into ORT's process state (the one-node child's blocks
// in use), the session's leftovers (the reference child's blocks in use beyond that), pages the
// allocator cannot return (anonymous minus in use: free blocks that share a page with live ones)
// and file-backed pages (ORT's code) -- all relative to the baseline.
MemoryCard build_memory_card(const CardMeasurements& measured);

}  // namespace infermem
