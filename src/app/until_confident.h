#pragma once
// soak --until-confident in the application: one sequential rule (infermem/sequential.h) per arm
// child, fed with the arm's series so far at its planned looks while the child runs, and each
// arm's time to verdict when it ends. A look settles the arm only as SequentialConfirmation
// confirms it (the verdict engine agrees; a leak is seen at two looks in a row).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "infermem/arm_figures.h"
#include "infermem/sequential.h"
#include "infermem/soak.h"

namespace infermem {

// The fewest requests between two looks, and the most looks planned for a request cap.
inline constexpr std::int64_t kMinLookEvery = 100;
inline constexpr std::int64_t kMaxLooks = 30;

class UntilConfident {
 public:
  explicit UntilConfident(const SoakOptions& options) : options_(options) {}
  // The runner's ArmSettled: true once the arm's rule has settled its verdict.
  bool settled(const std::string& arm, std::int64_t requests, const ArmAccumulator& records);
  // When the arm's child has ended: how and when it stopped.
  TimeToVerdict result(const std::string& arm, const ArmAccumulator& records) const;

 private:
  struct ArmState {
    std::optional<SequentialRule> rule;
    std::int64_t next_look = kMinLookEvery, look_every = kMinLookEvery;
    SequentialLook last;
    SequentialConfirmation confirmation;
    bool settled = false;
    double decided_seconds = kAbsent;
  };
  void plan(ArmState& state, const Series& infer) const;

  const SoakOptions& options_;
  std::map<std::string, ArmState> arms_;
};

// InputError (exit 2) for --until-confident options that cannot work: no cap, a scenario whose
// series is not one steady stream (churn, cache), a --detect the cap can never resolve.
void check_until_confident(const SoakOptions& options);

// What summary.json's options record of --until-confident.
nlohmann::json until_confident_options(const SoakOptions& options);

}  // namespace infermem
