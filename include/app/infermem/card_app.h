#pragma once
// infermem inspect --measure: the memory card of one model. The model is inspected (its weight
// bytes, and every input error, before any child starts), measured in fresh children
// (infermem/card_run.h) and split (infermem/memory_card.h); the cli renders it.
#include "infermem/card_run.h"
#include "infermem/memory_card.h"

namespace infermem {

// InputError for a missing or unreadable file, one that is not an ONNX model, or a bad --shape
// (nothing is started); WorkloadError when a child does not finish cleanly.
MemoryCard measure_memory_card(const CardRunOptions& options);

// The measurements a card is built from, read out of the children's runs (exposed for tests).
CardMeasurements card_measurements(const CardRun& run);

}  // namespace infermem
