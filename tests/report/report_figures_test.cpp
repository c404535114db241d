// The reporters' compile-time coverage check (report_figures.h) refuses what it must: a table
// that misses a figure, has one twice, or omits one without a reason. Checked at compile time,
// as the reporters' own static_asserts are; the test only makes the file part of the suite.
#include <gtest/gtest.h>

#include <array>

#include "infermem/report_figures.h"

namespace infermem::report {
namespace {

// A table with every watch figure shown but `skip`, which is replaced by `instead`.
constexpr auto watch_table(WatchFigure skip, Coverage<WatchFigure> instead) {
  std::array<Coverage<WatchFigure>, kWatchFigures.size()> t{};
  for (std::size_t i = 0; i < t.size(); ++i)
    t[i] = kWatchFigures[i] == skip ? instead : shown(kWatchFigures[i]);
  return t;
}

static_assert(kWatchFigures.size() == static_cast<std::size_t>(WatchFigure::count_));
static_assert(kSoakFigures.front() == SoakFigure::run_facts);
static_assert(kSoakFigures.back() == SoakFigure::replay_policies);

// Every figure shown, or one omitted with its reason: covered.
static_assert(covers_each_once(watch_table(WatchFigure::peak, shown(WatchFigure::peak))));
static_assert(covers_each_once(
    watch_table(WatchFigure::charts, omitted(WatchFigure::charts, "no charts in this format"))));
// One figure missing (another in its place twice): not covered.
static_assert(!covers_each_once(watch_table(WatchFigure::peak, shown(WatchFigure::last))));
// Omitted without a reason worth the name: not covered.
static_assert(!covers_each_once(watch_table(WatchFigure::peak, omitted(WatchFigure::peak, ""))));
static_assert(!covers_each_once(watch_table(WatchFigure::peak, omitted(WatchFigure::peak, "no"))));
// A table shorter than the set: not covered.
static_assert(!covers_each_once(std::array{shown(SoakFigure::peak)}));

TEST(ReportFigures, TheCoverageCheckRefusesAMissingDuplicatedOrUnexplainedFigure) {
  // The static_asserts above are the test; this one states the sets' sizes for a reader.
  EXPECT_EQ(kSoakFigures.size(), 27u);
  EXPECT_EQ(kWatchFigures.size(), 20u);
}

}  // namespace
}  // namespace infermem::report
