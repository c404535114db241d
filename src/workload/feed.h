#pragma once
// Stateful models (voice activity, RNNs, KV caches): soak --feed OUTPUT=INPUT carries an output
// of one request into an input of the next request of the same stream. --streams N runs N
// independent streams, request n going to stream n mod N; a stream starts again from a
// synthesized input after --stream-length requests (0 = never).
#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "infermem/soak.h"

namespace infermem {

struct FeedPair {
  std::string output, input;
  std::size_t output_index = 0, input_index = 0;
};

// Resolves --feed pairs against the model. InputError naming the pair when the output or input
// does not exist or their element types differ.
std::vector<FeedPair> resolve_feed(const std::string& model_path,
                                   const std::vector<InputPlan>& inputs,
                                   const std::map<std::string, std::string>& feed);

class Feeder {
 public:
  Feeder(std::vector<FeedPair> pairs, std::int64_t streams, std::int64_t stream_length)
      : pairs_(std::move(pairs)),
        streams_(std::max<std::int64_t>(1, streams)),
        length_(stream_length) {}
  const std::vector<FeedPair>& pairs() const { return pairs_; }
  std::int64_t stream_of(std::int64_t request) const { return request % streams_; }
  // The carried tensor of `input` for request n, or nullptr when its stream starts afresh.
  struct Carried {
    std::string bytes;
    std::vector<std::int64_t> shape;
  };
  const Carried* carried(std::int64_t request, const std::string& input) const;
  // After request n ran: keeps its output for the stream's next request.
  void keep(std::int64_t request, const std::string& input, Carried value);

 private:
  std::vector<FeedPair> pairs_;
  std::int64_t streams_, length_;
  std::map<std::pair<std::int64_t, std::string>, Carried> state_;  // (stream, input)
};

}  // namespace infermem
