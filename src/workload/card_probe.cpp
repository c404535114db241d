#include "workload/card_probe.h"

#include <unistd.h>

#include "infermem/error.h"
#include "infermem/probe.h"

namespace infermem {

void add_ort_library_rss(Figures& values) {
  try {
    const probe::Snapshot snap = probe::take_snapshot(static_cast<int>(getpid()));
    const auto& ort = snap.categories[static_cast<int>(probe::Category::kOnnxRuntime)];
    values.set(Figure::ort_library_rss_bytes, ort.rss_bytes);
    values.set(Figure::ort_library_file_bytes, ort.rss_bytes - ort.anonymous_bytes);
  } catch (const InputError&) {
    // smaps unreadable (a hardened /proc): the figure stays absent, never zero.
  }
}

}  // namespace infermem
