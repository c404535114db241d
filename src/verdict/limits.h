#pragma once
// Limits of the verdict engine that its evidence sentences also state (src/verdict/judge.cpp,
// src/verdict/finding_text.cpp). Private to src/verdict; docs/verdicts.md gives the reasons.
#include <cstddef>

namespace infermem::limits {

// The fewest judged points a sustained rise can show in (a too-short window's leak).
inline constexpr std::size_t kMinShortLeakPoints = 5;
// Blocks of the trend test on block extremes, at the fewest.
inline constexpr std::size_t kMinTrendBlocks = 6;
// A judged window shorter than this has no block trend test: Mann-Kendall runs on the points,
// and a rise must show it flattened to be a plateau (else too-short).
inline constexpr std::size_t kMinTrendPoints = 5 * kMinTrendBlocks;

}  // namespace infermem::limits
