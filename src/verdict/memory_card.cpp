#include "infermem/memory_card.h"

#include <fmt/format.h>
#include <algorithm>

#include "infermem/units.h"

namespace infermem {
namespace {

// a - b, absent when either is.
double diff(double a, double b) {
  return present(a) && present(b) ? a - b : kAbsent;
}

CardPart initializers_part(const CardMeasurements& m) {
  return {"initializers",
          "initializer weights",
          static_cast<double>(m.weight_bytes),
          "sum of the initializer and Constant tensors in the model file",
          {"the model: fewer or smaller weights (fp16, int8 quantisation)",
           "external data files: ORT maps them, so they are file-backed pages shared between "
           "processes, not heap",
           "session.use_device_allocator_for_initializers=1: weights by malloc, outside the arena "
           "(arm knob device_alloc_for_initializers=on)"}};
}

CardPart prepacked_part(const CardMeasurements& m) {
  return {"prepacked",
          "ORT prepacked copies",
          diff(m.steady_bytes, m.steady_no_prepack_bytes),
          "VmRSS after warm-up, default session minus session.disable_prepacking=1: the packed "
          "copies and the free heap the unpacked originals leave",
          {"session.disable_prepacking=1 (arm knob prepacking=off): no packed copies, slower "
           "MatMul/Conv",
           "session.save_external_prepacked_constant_initializers=1: packed copies in a file"}};
}

CardPart arena_part(const CardMeasurements& m) {
  return {"arena",
          "CPU arena (held beyond use)",
          diff(m.steady_bytes, m.steady_no_arena_bytes),
          "VmRSS after warm-up, default session minus the CPU arena off",
          {"arena off: session.enable_cpu_mem_arena=0 or DisableCpuMemArena (arm knob arena=off)",
           "session.use_env_allocators=1: one arena shared by the sessions (knob env_allocator=on)",
           "run option memory.enable_memory_arena_shrinkage=cpu:0 (knob shrink=on)",
           "arena_extend_strategy=kSameAsRequested (knob arena_extend=same)"}};
}

// The heap the allocator holds, in use and free: prepacking frees the unpacked originals, whose
// pages stay as free heap, so in-use alone would count them nowhere (and go negative).
CardPart other_heap_part(const CardMeasurements& m, double prepacked, double arena) {
  const double held = present(m.malloc_in_use_bytes) && present(m.malloc_free_bytes)
                          ? m.malloc_in_use_bytes + m.malloc_free_bytes
                          : kAbsent;
  double bytes = diff(held, static_cast<double>(m.weight_bytes));
  bytes = diff(bytes, present(prepacked) ? prepacked : 0.0);
  bytes = diff(bytes, present(arena) ? arena : 0.0);
  return {
      "other_heap",
      "other heap",
      bytes,
      "heap the allocator holds after warm-up (mallinfo2: in use + free) minus the parts above",
      {"memory pattern planning: SessionOptions DisableMemPattern (knob mem_pattern=off)",
       "graph optimisation level (knob graph_opt)",
       "input shapes: activations grow with batch and spatial size (see the shape peaks)",
       "free heap the allocator keeps: malloc_trim (knob trim=on), MALLOC_ARENA_MAX, jemalloc"}};
}

CardPart ort_code_part(const CardMeasurements& m) {
  return {"ort_code",
          "ORT code pages touched",
          m.ort_code_bytes,
          "file-backed RSS of libonnxruntime's mappings (/proc/self/smaps) after warm-up",
          {"a minimal ONNX Runtime build (only the operators and providers the model needs)",
           "shared between processes on one machine: PSS, not RSS, is each one's share"}};
}

CardPart rest_part(double bytes) {
  return {"rest",
          "rest (not split)",
          bytes,
          "VmRSS after warm-up minus every part above",
          {"nothing ORT-specific: infermem's, libc's and libstdc++'s pages and thread stacks, "
           "there before a session exists (see the baseline); negative when the allocator counts "
           "blocks it never touched"}};
}

// The split of what stays after unload and trim (retained), relative to the baseline.
std::vector<CardPart> retained_parts(const CardMeasurements& m, double retained) {
  const double in_use = diff(m.after_trim_malloc_in_use_bytes, m.baseline_malloc_in_use_bytes);
  const double anon = diff(m.after_trim_anon_bytes, m.baseline_anon_bytes);
  const double file = diff(m.after_trim_file_bytes, m.baseline_file_bytes);
  std::vector<CardPart> parts{
      {"ort_state",
       "ORT process state",
       m.ort_state_in_use_bytes,
       "a one-node model's child: blocks in use after unload and trim minus at its baseline",
       {"no setting: ONNX Runtime builds its CPU kernel registry (a static in "
        "CPUExecutionProvider::GetKernelRegistry) for the first session and keeps it to exit",
        "prewarm=on: built from a one-node session before the first model, it fills pages of "
        "its own instead of pinning the model's"}},
      {"session_leftovers",
       "session leftovers in use",
       diff(in_use, m.ort_state_in_use_bytes),
       "blocks in use after unload and trim minus at the baseline, minus ORT's process state",
       {"telemetry=off: ONNX Runtime 1.29 for Linux keeps its telemetry events (~10 KiB for "
        "every session created, run and released) in memory; DisableTelemetryEvents on the "
        "environment stops it (docs/soak.md, \"Lean at the physical limit\")"}},
      {"pinned_pages",
       "pages pinned by free blocks",
       diff(anon, in_use),
       "anonymous VmRSS after trim minus the blocks in use (both above the baseline): free "
       "blocks sharing a page with live ones, which malloc_trim cannot return",
       {"prewarm=on: ORT's registry is not interleaved with the model's blocks",
        "malloc_tcache=off: glibc's per-thread cache holds freed blocks as in use",
        "trim=on: without a trim the free heap itself stays"}},
      {"file_backed",
       "file-backed pages",
       file,
       "file-backed VmRSS after trim minus at the baseline: ONNX Runtime's code and the model "
       "file's pages read",
       {"shared between processes and dropped by the kernel under pressure; a minimal ONNX "
        "Runtime build touches less"}}};
  double sum = 0;
  for (const auto& p : parts)
    if (present(p.bytes)) sum += p.bytes;
  parts.push_back({"rest",
                   "rest (not split)",
                   diff(retained, sum),
                   "retained minus every part above",
                   {"shared memory and rounding; negative when parts overlap"}});
  return parts;
}

}  // namespace

MemoryCard build_memory_card(const CardMeasurements& measured) {
  MemoryCard card;
  card.measured = measured;
  const CardMeasurements& m = card.measured;
  CardPart prepacked = prepacked_part(m);
  CardPart arena = arena_part(m);
  card.parts = {initializers_part(m), prepacked, arena,
                other_heap_part(m, prepacked.bytes, arena.bytes), ort_code_part(m)};
  double sum = 0;
  for (const auto& p : card.parts) {
    if (present(p.bytes)) {
      sum += p.bytes;
      if (p.bytes < 0)
        card.notes.push_back(
            fmt::format("{} is negative ({}): the setting's difference is within the noise of two "
                        "processes, or the setting frees something else",
                        p.title, format_bytes(p.bytes)));
    } else {
      card.notes.push_back(
          fmt::format("{} could not be measured; it is left out of the sum", p.title));
    }
  }
  card.parts_bytes = sum;
  card.rest_bytes = diff(m.steady_bytes, sum);
  card.parts.push_back(rest_part(card.rest_bytes));
  const double after = present(m.after_trim_bytes) ? m.after_trim_bytes : m.after_unload_bytes;
  card.retained_bytes = diff(after, m.baseline_bytes);
  card.retained_parts = retained_parts(m, card.retained_bytes);
  for (const auto& s : m.shape_peaks)
    if (present(s.peak_bytes))
      card.largest_shape_peak_bytes = present(card.largest_shape_peak_bytes)
                                          ? std::max(card.largest_shape_peak_bytes, s.peak_bytes)
                                          : s.peak_bytes;
  return card;
}

}  // namespace infermem
