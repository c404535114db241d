#include "infermem/figure.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

using namespace infermem;

TEST(Figure, EveryFigureHasOneNameThatParsesBack) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kFigureCount; ++i) {
    const auto f = static_cast<Figure>(i);
    EXPECT_TRUE(names.insert(name(f)).second) << name(f);
    EXPECT_EQ(parse_figure(name(f)), f) << name(f);
  }
  EXPECT_EQ(names.size(), kFigureCount);
  EXPECT_EQ(parse_figure("rss_bytes"), Figure::rss_bytes);
  EXPECT_EQ(parse_figure("window_peak_rss_bytes"), Figure::window_peak_rss_bytes);
  EXPECT_EQ(parse_figure("allocator_is_jemalloc_count"), Figure::allocator_is_jemalloc_count);
}

TEST(Figure, OtherStringsAreNoFigure) {
  for (std::string_view s : {"", "RSS_bytes", "rss-bytes", "rss_bytes ", "rss", "zzz", "a", "seed",
                             "model", "rss_bytes_"})
    EXPECT_FALSE(parse_figure(s).has_value()) << s;
}

TEST(Figure, UnitsFollowTheNameSuffix) {
  for (std::size_t i = 0; i < kFigureCount; ++i) {
    const auto f = static_cast<Figure>(i);
    const std::string_view n = name(f);
    if (n.ends_with("_bytes")) {
      EXPECT_EQ(unit(f), Unit::bytes) << n;
    }
    if (n.ends_with("_count")) {
      EXPECT_EQ(unit(f), Unit::count) << n;
    }
    if (n.ends_with("_ms")) {
      EXPECT_EQ(unit(f), Unit::ms) << n;
    }
    if (n.ends_with("_hz")) {
      EXPECT_EQ(unit(f), Unit::hz) << n;
    }
  }
  EXPECT_EQ(unit(Figure::cycle), Unit::index);
  EXPECT_EQ(unit(Figure::cache_hits), Unit::count);
  EXPECT_EQ(name(Unit::bytes), "bytes");
  EXPECT_EQ(name(Unit::hz), "hz");
}

TEST(Figures, AbsentIsNotZero) {
  Figures f;
  EXPECT_TRUE(f.empty());
  EXPECT_FALSE(f.get(Figure::rss_bytes).has_value());
  f.set(Figure::rss_bytes, 0);
  EXPECT_TRUE(f.has(Figure::rss_bytes));
  EXPECT_EQ(f.get(Figure::rss_bytes), 0.0);
  EXPECT_EQ(f.size(), 1u);
  f.erase(Figure::rss_bytes);
  EXPECT_FALSE(f.has(Figure::rss_bytes));
  f.set(Figure::hwm_bytes, NAN);  // NaN is absent
  EXPECT_TRUE(f.empty());
}

TEST(Figures, IteratesPresentFiguresInTheOrderAMapOfTheirNamesHas) {
  Figures f;
  std::map<std::string, double> m;
  double v = 1;
  for (Figure x : {Figure::window_peak_rss_bytes, Figure::rss_bytes, Figure::cycle,
                   Figure::rss_after_trim_bytes, Figure::allocator_is_jemalloc_count,
                   Figure::rss_anon_bytes, Figure::thread, Figure::threads_count}) {
    f.set(x, v);
    m[std::string(name(x))] = v;
    v += 1;
  }
  std::vector<std::pair<std::string, double>> seen;
  for (auto [x, value] : f) seen.emplace_back(std::string(name(x)), value);
  const std::vector<std::pair<std::string, double>> expected(m.begin(), m.end());
  EXPECT_EQ(seen, expected);
}

TEST(Figures, InsertKeepsAndAssignReplaces) {
  Figures a, b;
  a.set(Figure::rss_bytes, 1);
  b.set(Figure::rss_bytes, 2);
  b.set(Figure::hwm_bytes, 3);
  Figures kept = a;
  kept.insert_absent(b);
  EXPECT_EQ(kept.get(Figure::rss_bytes), 1.0);
  EXPECT_EQ(kept.get(Figure::hwm_bytes), 3.0);
  Figures replaced = a;
  replaced.assign_present(b);
  EXPECT_EQ(replaced.get(Figure::rss_bytes), 2.0);
  EXPECT_EQ(replaced, b);
  EXPECT_FALSE(a == b);
}
