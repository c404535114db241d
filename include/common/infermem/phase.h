#pragma once
// The phases of a measured run (a soak child's baseline, load, warm, infer, unload, trim), and
// Named<E>: one of an enum's names, or a name none of its values has, kept as written. The trace's
// records (infermem/trace.h) and the judged series' points (infermem/series.h) both carry a phase,
// so it is part of the common vocabulary.
#include <cstddef>
#include <string>
#include <string_view>

namespace infermem {

// A name that is none of these is kept as written (other).
enum class Phase : unsigned char { none, baseline, load, warm, infer, unload, trim, other };

inline constexpr std::string_view kPhaseNames[] = {"",      "baseline", "load", "warm",
                                                   "infer", "unload",   "trim", ""};
// "" for none and other.
constexpr std::string_view name(Phase phase) {
  return kPhaseNames[static_cast<std::size_t>(phase)];
}

// One of an enum's names, or (other) a name no enum value has, kept as written so that what was
// read writes back unchanged. Compares with the enum: point.phase == Phase::infer.
template <class E>
struct Named {
  E kind = E::none;
  std::string other;  // the text when kind is E::other

  Named() = default;
  Named(E k) : kind(k) {}  // NOLINT: implicit, so that r.phase = Phase::load reads naturally
  // The name as written ("" for none).
  std::string_view text() const { return kind == E::other ? std::string_view(other) : name(kind); }
  bool empty() const { return kind == E::none; }
  friend bool operator==(const Named& a, E k) { return a.kind == k; }
  friend bool operator==(const Named& a, const Named& b) {
    return a.kind == b.kind && a.other == b.other;
  }
};

// Reads a name against an enum's name table (index = value; the first is none's "", the last
// other's ""): "" is none, a known name its value, anything else other with the text kept.
template <class E, std::size_t N>
Named<E> parse_named(std::string_view text, const std::string_view (&names)[N]) {
  Named<E> out;
  if (text.empty()) return out;
  for (std::size_t i = 1; i + 1 < N; ++i)
    if (names[i] == text) return Named<E>(static_cast<E>(i));
  out.kind = E::other;
  out.other = std::string(text);
  return out;
}

inline Named<Phase> parse_phase(std::string_view text) {
  return parse_named<Phase>(text, kPhaseNames);
}

}  // namespace infermem
