#pragma once
// The memory card's one figure the trace's phase ends lack: libonnxruntime's resident pages.
#include "infermem/figure.h"

namespace infermem {

// Adds ort_library_rss_bytes and ort_library_file_bytes (resident minus anonymous: the code and
// read-only data pages touched) of every libonnxruntime mapping of this process, from
// /proc/self/smaps (probe::take_snapshot's onnxruntime category). Leaves `values` alone when
// smaps cannot be read.
void add_ort_library_rss(Figures& values);

}  // namespace infermem
