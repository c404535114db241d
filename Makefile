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

.PHONY: setup build build-san build-tsan demo test test-normal test-san test-tsan bench fuzz format clean

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

test-normal: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-san: build-san
	@cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS)

test-tsan: build-tsan
	@cd $(TSAN_BUILD) && ctest --output-on-failure

# The sanitizer runs first, the normal run last, so the closing line is ctest's summary of it.
test: test-tsan test-san test-normal

bench: build
	@cmake --build $(BUILD) -j $(JOBS) --target benches
	@scripts/bench.sh $(BUILD)

# Exploratory fuzzing: fresh seeds, FUZZ_SECONDS per target (make test replays a fixed seed).
FUZZ_SECONDS ?= 300
fuzz: build-san
	@cd $(SAN_BUILD) && for f in *_fuzz; do \
	  echo "== $$f ($(FUZZ_SECONDS) s)"; mkdir -p fuzz-corpus/$$f; \
	  seeds=$(CURDIR)/fuzz/corpus/$$f; [ -d $$seeds ] || seeds=; \
	  ./$$f -seed=0 -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
	    fuzz-corpus/$$f $$seeds >fuzz-$$f.log 2>&1 || { tail -40 fuzz-$$f.log; exit 1; }; \
	  tail -1 fuzz-$$f.log; \
	done

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(TSAN_BUILD)
