# Two commands do everything on a fresh Debian 12 machine: `make demo` and `make test`.
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-san
TSAN_BUILD ?= build-tsan
ORT_ROOT ?= $(CURDIR)/third_party/onnxruntime
DEMO_MODEL ?= $(BUILD)/models/demo-transformer.onnx
# ccache (when installed) reuses objects across clones and build trees of the same sources.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

.PHONY: setup build build-san build-tsan demo test test-normal test-san test-tsan run-test-normal \
  run-test-san run-test-tsan bench fuzz format clean

setup:
	@scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONNXRUNTIME_ROOT=$(ORT_ROOT) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# AddressSanitizer + LeakSanitizer + UBSan build with clang; also builds the libFuzzer targets.
build-san: setup
	@cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
	  -DINFERMEM_SANITIZE=ON -DINFERMEM_FUZZ=ON -DONNXRUNTIME_ROOT=$(ORT_ROOT) >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)

# ThreadSanitizer over the model cache's tests only (one small program, no ONNX Runtime).
build-tsan: setup
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINFERMEM_TSAN_ONLY=ON >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

# Labels (CMakeLists.txt): unit, fuzz (sanitizer build only), e2e (the short end-to-end smoke set)
# and e2e-long (the other end-to-end cases). The sanitizer build runs unit, fuzz and e2e; the
# normal build runs everything, so each long end-to-end case runs once.
SAN_LABELS = ^(unit|fuzz|e2e)$$
CTEST = ctest --output-on-failure --no-tests=error -j $(JOBS)

test-normal: build run-test-normal
test-san: build-san run-test-san
test-tsan: build-tsan run-test-tsan

run-test-normal:
	@cd $(BUILD) && $(CTEST)

run-test-san:
	@cd $(SAN_BUILD) && $(CTEST) -L '$(SAN_LABELS)'

run-test-tsan:
	@cd $(TSAN_BUILD) && $(CTEST)

# Every phase timed (scripts/test.sh): set-up, the ThreadSanitizer, sanitizer and normal builds
# and their tests; the normal run comes last, and the closing line counts all of them.
test:
	@scripts/test.sh

bench: build
	@cmake --build $(BUILD) -j $(JOBS) --target benches
	@scripts/bench.sh $(BUILD)

# Exploratory fuzzing with fresh seeds, FUZZ_SECONDS per target (make test only replays the
# committed inputs and a fixed-seed run). What a run finds that adds coverage is merged into
# fuzz/corpus/<target> for you to commit; a crash is kept in build-san/fuzz-crashes/: fix it and
# commit the input to fuzz/regressions/<target>/.
FUZZ_SECONDS ?= 300
fuzz: build-san
	@cd $(SAN_BUILD) && mkdir -p fuzz-crashes && for f in *_fuzz; do \
	  echo "== $$f ($(FUZZ_SECONDS) s)"; mkdir -p fuzz-corpus/$$f $(CURDIR)/fuzz/corpus/$$f; \
	  regress=$(CURDIR)/fuzz/regressions/$$f; [ -d $$regress ] || regress=; \
	  ./$$f -seed=0 -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
	    -artifact_prefix=fuzz-crashes/$$f- fuzz-corpus/$$f $(CURDIR)/fuzz/corpus/$$f $$regress \
	    >fuzz-$$f.log 2>&1 || { tail -40 fuzz-$$f.log; exit 1; }; \
	  tail -1 fuzz-$$f.log; \
	  ./$$f -merge=1 $(CURDIR)/fuzz/corpus/$$f fuzz-corpus/$$f >>fuzz-$$f.log 2>&1; \
	done

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(TSAN_BUILD)
