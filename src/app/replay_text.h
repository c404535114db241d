#pragma once
// infermem replay's verdict and text (src/app/replay_text.cpp): which policy holds the traffic,
// the lines that apply it, the table.
#include <optional>

#include "infermem/recommend.h"
#include "infermem/replay_app.h"

namespace infermem {

// The policy that holds (PolicyOutcome::holds) with the best hit rate (then the lowest peak),
// with recommend's apply lines for its arm; nullopt when none holds.
std::optional<Recommendation> recommend_policy(const ReplayReport& report,
                                               const ReplayOptions& options);

}  // namespace infermem
