#include "infermem/arms.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "infermem/error.h"

using namespace infermem;
using ::testing::HasSubstr;

TEST(Arms, EveryBuiltinResolvesEveryKnob) {
  for (const auto& name : builtin_arm_names()) {
    Arm a = builtin_arm(name);
    EXPECT_EQ(a.name, name);
    for (const auto& spec : knob_specs())
      EXPECT_FALSE(a.knob(spec.key).empty()) << name << " " << spec.key;
  }
}

TEST(Arms, BuiltinsMeanWhatTheProductSays) {
  EXPECT_EQ(builtin_arm("ort-default").knob("arena"), "on");
  Arm na = builtin_arm("no-arena");
  EXPECT_EQ(na.knob("arena"), "off");
  EXPECT_EQ(na.knob("mem_pattern"), "off");
  EXPECT_EQ(na.knob("trim"), "off");
  EXPECT_EQ(builtin_arm("no-arena-trim").knob("trim"), "on");
  EXPECT_EQ(builtin_arm("arena-shrink").knob("shrink"), "on");
  EXPECT_EQ(builtin_arm("jemalloc").knob("allocator"), "jemalloc");
  EXPECT_EQ(builtin_arm("tcmalloc").knob("allocator"), "tcmalloc");
}

TEST(Arms, CustomArmStartsFromDefaultsOrABase) {
  Arm a = parse_custom_arm("small: arena=off, trim=on ,load=bytes");
  EXPECT_EQ(a.name, "small");
  EXPECT_EQ(a.knob("arena"), "off");
  EXPECT_EQ(a.knob("trim"), "on");
  EXPECT_EQ(a.knob("load"), "bytes");
  EXPECT_EQ(a.knob("mem_pattern"), "on");
  Arm b = parse_custom_arm("g2:base=lean,malloc_arena_max=4,mmap_threshold=128KiB");
  EXPECT_EQ(b.knob("trim"), "on");
  EXPECT_EQ(b.knob("malloc_arena_max"), "4");
  EXPECT_EQ(b.knob("mmap_threshold"), "128KiB");
}

// glibc's knobs are ignored by other allocators: given together they are refused; inherited from
// a base (lean's malloc_arena_max=2), they are dropped when the arm changes the allocator.
TEST(Arms, GlibcKnobsOnlyWhereGlibcServesMalloc) {
  EXPECT_THROW(parse_custom_arm("je2:base=jemalloc,malloc_arena_max=2"), InputError);
  EXPECT_THROW(parse_custom_arm("tc:allocator=tcmalloc,mmap_threshold=1MiB"), InputError);
  Arm lean_je = parse_custom_arm("lean-je:base=lean,allocator=jemalloc");
  EXPECT_EQ(lean_je.knob("allocator"), "jemalloc");
  EXPECT_EQ(lean_je.knob("malloc_arena_max"), "default");
  EXPECT_EQ(lean_je.knob("malloc_tcache"), "default");  // lean's glibc tunable, dropped too
  EXPECT_EQ(lean_je.knob("prewarm"), "on");             // not glibc's: kept
  EXPECT_THROW(parse_custom_arm("je:allocator=jemalloc,malloc_tcache=off"), InputError);
  EXPECT_EQ(lean_je.knob("trim"), "on");
  EXPECT_THROW(parse_custom_arm("big:mmap_threshold=33MiB"), InputError);
  EXPECT_NO_THROW(parse_custom_arm("max:mmap_threshold=32MiB"));
  EXPECT_THROW(parse_custom_arm("zero:malloc_arena_max=0"), InputError);
}

TEST(Arms, UnknownKeyNamesItAndListsValidKeys) {
  try {
    parse_custom_arm("x:arenna=off");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("arenna"));
    EXPECT_THAT(e.what(), HasSubstr("mem_pattern"));
  }
}

TEST(Arms, BadValueNamesItAndListsValidValues) {
  try {
    parse_custom_arm("x:graph_opt=max");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("graph_opt=max"));
    EXPECT_THAT(e.what(), HasSubstr("extended"));
  }
  EXPECT_THROW(parse_custom_arm("x:intra=many"), InputError);
  EXPECT_THROW(parse_custom_arm("x:mmap_threshold=lots"), InputError);
  EXPECT_THROW(parse_custom_arm(":arena=off"), InputError);
  EXPECT_THROW(parse_custom_arm("bad name:arena=off"), InputError);
  EXPECT_THROW(parse_custom_arm("x:arena"), InputError);
}

TEST(Arms, ResolveKeepsOrderAndRejectsDuplicatesAndUnknowns) {
  auto arms = resolve_arms("ort-default, no-arena", {"mine:arena=off"});
  ASSERT_EQ(arms.size(), 3u);
  EXPECT_EQ(arms[2].name, "mine");
  EXPECT_THROW(resolve_arms("ort-default,ort-default", {}), InputError);
  try {
    resolve_arms("ort-default,fastest", {});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("fastest"));
    EXPECT_THAT(e.what(), HasSubstr("no-arena-trim"));
  }
  EXPECT_THROW(resolve_arms("", {}), InputError);
}

TEST(Arms, AllocatorLibrariesComeFromTheSystemPackages) {
  EXPECT_EQ(allocator_library("glibc"), "");
  for (const char* a : {"jemalloc", "mimalloc", "tcmalloc"})
    EXPECT_THAT(allocator_library(a), HasSubstr(".so")) << a;
}

TEST(Arms, ALongNameIsRefusedWhenParsedNotWhenItsFileIsWritten) {
  EXPECT_NO_THROW(parse_custom_arm(std::string(kMaxArmNameLength, 'a') + ":arena=off"));
  try {
    parse_custom_arm(std::string(300, 'a') + ":arena=off");
    FAIL() << "accepted a 300-character name";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("300 characters"));
    EXPECT_THAT(e.what(), HasSubstr("at most 64"));
  }
  EXPECT_THROW(parse_custom_arm("a/b:arena=off"), InputError);
}

TEST(Arms, AKeyGivenTwiceInOneSpecIsRefused) {
  try {
    parse_custom_arm("x:arena=off,trim=on,arena=on");
    FAIL() << "accepted arena twice";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'arena' is given twice"));
  }
  EXPECT_THROW(parse_custom_arm("x:base=lean,base=jemalloc"), InputError);
}

TEST(Arms, ThreadCountsFarBeyondTheMachineAreRefused) {
  EXPECT_LE(max_thread_count(), 1024);
  EXPECT_GE(max_thread_count(), 64);
  EXPECT_NO_THROW(parse_custom_arm("t:intra=" + std::to_string(max_thread_count())));
  try {
    parse_custom_arm("t:intra=" + std::to_string(max_thread_count() + 1));
    FAIL() << "accepted more threads than the cap";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("intra"));
    EXPECT_THAT(e.what(), HasSubstr(std::to_string(max_thread_count())));
  }
  EXPECT_THROW(parse_custom_arm("t:inter=99999"), InputError);
}

TEST(Arms, OrtVersionKeyTakesDefaultOrAVersion) {
  EXPECT_EQ(builtin_arm("ort-default").knob("ort"), "default");
  EXPECT_EQ(parse_custom_arm("old:ort=1.22.0").knob("ort"), "1.22.0");
  for (const char* bad : {"old:ort=1.22", "old:ort=latest", "old:ort=1.22.0-rc1", "old:ort="}) {
    try {
      parse_custom_arm(bad);
      FAIL() << bad;
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("ort takes 'default' or a version MAJOR.MINOR.PATCH")) << bad;
    }
  }
}

// A knob name with a typo used to read as "" and run the default configuration while the
// report said otherwise; now it is a bug the caller hears about.
TEST(Arms, AskingForAKnobThatDoesNotExistThrows) {
  const Arm a = builtin_arm("lean");
  EXPECT_THROW(a.knob("aerna"), std::logic_error);
  Arm partial = a;
  partial.knobs.erase("trim");
  EXPECT_THROW(partial.knob("trim"), std::logic_error);
  EXPECT_EQ(a.knob("trim"), "on");
}

TEST(Arms, AnArmReadBackMustListExactlyTheKnobs) {
  Arm a = builtin_arm("ort-default");
  EXPECT_NO_THROW(check_knobs(a));
  Arm typo = a;
  typo.knobs["mem_patern"] = "off";
  try {
    check_knobs(typo);
    FAIL() << "accepted an unknown knob";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("mem_patern"));
  }
  Arm missing = a;
  missing.knobs.erase("arena");
  try {
    check_knobs(missing);
    FAIL() << "accepted an arm without a knob";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'arena'"));
  }
}
