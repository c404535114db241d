// A service loop that measures every request with infermem::RequestScope and, every so often,
// asks the verdict engine whether the process is growing. The handler stands in for a model's
// inference (a real service would run its ONNX Runtime session there).
//
//   service_loop [REQUESTS]
//
// Each request costs two statm reads, one clear_refs write and one status read on top of the
// handler (docs/guide.md states the measured cost), so this can stay on in production.
#include <infermem/request_scope.h>
#include <infermem/series.h>
#include <infermem/units.h>
#include <infermem/verdict.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

// Stand-in for inference: a 4 MiB activation buffer for the request, freed when it ends.
struct Handler {
  double handle(int request) {
    std::vector<float> activations((4 << 20) / sizeof(float), static_cast<float>(request % 7));
    double sum = 0;
    for (float a : activations) sum += a;
    return sum;
  }
};

}  // namespace

int main(int argc, char** argv) {
  int requests = argc > 1 ? std::atoi(argv[1]) : 300;
  Handler handler;
  if (argc > 2 || requests < 20 || requests > 1000000) {
    std::fprintf(stderr, "infermem: service_loop: REQUESTS must be in 20..1000000\n");
    return 2;
  }

  infermem::Series series;  // one point per request: what the verdict engine judges
  series.name = "service_loop";
  series.current_source = "VmRSS at the end of each request (RequestScope)";
  double worst_peak = 0;
  for (int request = 1; request <= requests; ++request) {
    infermem::RequestScope scope;
    handler.handle(request);
    infermem::RequestFigures f = scope.close();
    // A real service would put these on its request log line or its metrics.
    if (request <= 3 || request % 100 == 0)
      std::printf("request %d: peak %s (+%s over its start), growth %s, %.2f ms\n", request,
                  infermem::format_bytes(f.peak_bytes).c_str(),
                  infermem::format_bytes(f.peak_bytes - f.rss_start_bytes).c_str(),
                  infermem::format_bytes(f.growth_bytes).c_str(), f.duration_ms);
    if (infermem::present(f.peak_bytes) && f.peak_bytes > worst_peak) worst_peak = f.peak_bytes;
    infermem::SeriesPoint p;
    p.req = request;
    p.current_bytes = f.rss_end_bytes;
    series.points.push_back(p);
  }
  infermem::Verdict v = infermem::judge(series);
  std::printf("worst request peak: %s\n", infermem::format_bytes(worst_peak).c_str());
  std::printf("verdict over %d requests: %s, growth %s/request\n", requests,
              std::string(infermem::name(v.kind)).c_str(),
              infermem::present(v.growth_bytes_per_request)
                  ? infermem::format_bytes(v.growth_bytes_per_request).c_str()
                  : "n/a");
  return 0;
}
