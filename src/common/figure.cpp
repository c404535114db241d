#include "infermem/figure.h"

namespace infermem {

std::string_view name(Unit u) {
  switch (u) {
    case Unit::bytes:
      return "bytes";
    case Unit::count:
      return "count";
    case Unit::ms:
      return "ms";
    case Unit::hz:
      return "hz";
    case Unit::index:
      return "index";
  }
  return "?";
}

std::size_t Figures::size() const {
  std::size_t n = 0;
  for (double v : slot_) n += !std::isnan(v);
  return n;
}

void Figures::insert_absent(const Figures& other) {
  for (std::size_t i = 0; i < kFigureCount; ++i)
    if (std::isnan(slot_[i])) slot_[i] = other.slot_[i];
}

void Figures::assign_present(const Figures& other) {
  for (std::size_t i = 0; i < kFigureCount; ++i)
    if (!std::isnan(other.slot_[i])) slot_[i] = other.slot_[i];
}

bool operator==(const Figures& a, const Figures& b) {
  for (std::size_t i = 0; i < kFigureCount; ++i) {
    const bool ha = !std::isnan(a.slot_[i]), hb = !std::isnan(b.slot_[i]);
    if (ha != hb || (ha && a.slot_[i] != b.slot_[i])) return false;
  }
  return true;
}

}  // namespace infermem
