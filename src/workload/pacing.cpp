#include "workload/pacing.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <sstream>

#include "infermem/error.h"
#include "infermem/input_file.h"
#include "infermem/soak.h"

namespace infermem {

double Pacer::arrival_ms(std::int64_t n, double start_ms) {
  if (rate_ <= 0) return start_ms;
  std::lock_guard<std::mutex> lock(mu_);
  std::exponential_distribution<double> gap(rate_ / 1000.0);  // per ms
  while (static_cast<std::int64_t>(arrivals_.size()) <= n)
    arrivals_.push_back((arrivals_.empty() ? 0.0 : arrivals_.back()) + gap(rng_));
  return start_ms + arrivals_[static_cast<std::size_t>(n)];
}

std::vector<std::map<std::string, std::int64_t>> load_shapes_file(
    const std::string& path, const std::vector<std::string>& keys) {
  const std::string text = read_regular_file(path, "--shapes", 64ull << 20);
  std::vector<std::map<std::string, std::int64_t>> lines;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::string word;
    std::map<std::string, std::int64_t> shape;
    bool comment = false;
    while (words >> word) {
      if (shape.empty() && word[0] == '#') {
        comment = true;
        break;
      }
      const auto eq = word.find('=');
      const std::string key = word.substr(0, eq);
      if (eq == std::string::npos || std::find(keys.begin(), keys.end(), key) == keys.end())
        throw InputError(fmt::format(
            "--shapes {}: line {}: '{}' is not KEY=N for a dynamic dimension of the model ({})",
            path, number, word,
            keys.empty() ? "it has none" : fmt::format("{}", fmt::join(keys, ", "))));
      const std::string value = word.substr(eq + 1);
      const bool digits =
          !value.empty() && value.size() <= 7 && std::all_of(value.begin(), value.end(), ::isdigit);
      const long long n = digits ? std::stoll(value) : 0;
      if (n < 1 || n > 1000000)
        throw InputError(
            fmt::format("--shapes {}: line {}: {}={} is not a whole number from 1 to 1000000", path,
                        number, key, value));
      shape[key] = n;
    }
    if (!comment && !shape.empty()) lines.push_back(std::move(shape));
  }
  if (lines.empty())
    throw InputError(
        fmt::format("--shapes {}: holds no shape (one request a line, KEY=N ...)", path));
  return lines;
}

}  // namespace infermem

namespace infermem {

void check_request_shapes(const std::map<std::string, DimRange>& dims, const SoakOptions& options) {
  if (options.shapes.empty() || options.shapes == "spike") return;
  std::vector<std::string> keys;
  for (const auto& [k, _] : dims) keys.push_back(k);
  load_shapes_file(options.shapes, keys);
}

}  // namespace infermem
