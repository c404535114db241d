#pragma once
// infermem recommend: from a finished soak run, the arm that best fits the user's goal, why (its
// figures as ratios to ort-default), and how to apply it in Python, C++, Node and the process
// environment. Every line says which knob of the arm it comes from, so nothing is suggested
// that the arm did not run with.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infermem/summary.h"

namespace infermem {

enum class Goal { peak, retained, latency };
std::string_view name(Goal goal);
Goal parse_goal(std::string_view text);  // InputError naming --goal and the accepted values

struct RecommendLimits {
  double max_latency_ratio = 0;  // p50 / ort-default's p50 at most this (0 = no limit)
  double max_peak_ratio = 0;     // peak / ort-default's peak at most this (0 = no limit)
};

// One line to paste, in one language, and the knob (key=value) of the arm it comes from; empty
// knob for boilerplate that every snippet needs (creating the options, the session).
struct ApplyLine {
  std::string language;  // "python", "cpp", "node", "env"
  std::string text;
  std::string knob, value;
};

struct Recommendation {
  // The first line render_text prints; "" for recommend's own ("Recommended for --goal ...").
  std::string headline;
  std::string arm;
  std::string baseline_arm;  // what the ratios are against ("" when the run has none)
  std::map<std::string, std::string> config;
  std::vector<std::string> why;               // figures and ratios, one a line
  std::vector<ApplyLine> lines;               // in language order
  std::vector<std::string> notes;             // settings a language cannot express, and what to do
  std::vector<std::string> rejected;          // other arms and why they lost or were excluded
  std::string rejected_title = "Other arms";  // how render_text heads them
};

// The lines that apply `config` (an arm's resolved knobs); only knobs that differ from what ONNX
// Runtime and glibc do unasked produce lines (threads always do: ORT's own default is all cores).
std::vector<ApplyLine> apply_lines(const std::map<std::string, std::string>& config,
                                   std::vector<std::string>* notes = nullptr);

// InputError when no arm of the run qualifies (each one's reason in the message).
Recommendation recommend(const RunSummary& run, Goal goal, const RecommendLimits& limits = {});

std::string render_text(const Recommendation& r, Goal goal);

}  // namespace infermem
