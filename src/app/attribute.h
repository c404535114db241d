#pragma once
// soak --attribute: the arm with the worst verdict re-run under heaptrack (Debian's package,
// driven from here, not re-implemented) over the same requests, and heaptrack_print's top
// allocation sites read back. Never fails the run: heaptrack absent, or its run failing, gives an
// Attribution that says so.
#include <functional>
#include <vector>

#include "infermem/arms.h"
#include "infermem/heaptrack.h"
#include "infermem/soak.h"
#include "infermem/summary.h"

namespace infermem {

// Worst first: leak, fragmentation, unload-retention, plateau, hwm-artifact, stable, too-short;
// among equals the larger growth per request. nullptr when the run has no arm.
const ArmSummary* worst_arm(const RunSummary& summary);

Attribution attribute_worst_arm(const SoakOptions& options, const std::vector<Arm>& arms,
                                const RunFacts& facts, const RunSummary& summary,
                                const std::function<void(const SoakProgress&)>& progress);

}  // namespace infermem
