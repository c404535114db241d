#!/usr/bin/env bash
# ctest "consumer.python_plugin": install infermem into a prefix under the build tree, pip-install
# python/ (no registry, no build isolation) into a venv made by Debian's python3 with the system
# site packages (pybind11, setuptools, pytest), and run pytest on examples/test_python_example.py:
# the leaking test must fail with the four-line message and the clean one must pass; and
# python/tests (the module's own tests).
# Usage: run_python.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work="$build/python-consumer"
prefix="$work/prefix"
rm -rf "$work"
mkdir -p "$work"
python=/usr/bin/python3  # Debian's: another python may come first on PATH
# pytest runs the tests where they are in the source tree: no __pycache__ may be left there.
export PYTHONDONTWRITEBYTECODE=1

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
"$python" -m venv --system-site-packages "$work/venv"
# pip builds in a copy of python/ so the source tree gets no build/ or egg-info folders.
cp -r "$src/python" "$work/python-src"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" CXX="${CCACHE:+ccache }c++" \
  "$work/venv/bin/pip" install --no-index --no-build-isolation --quiet "$work/python-src" \
  >"$work/pip.log" 2>&1 || { cat "$work/pip.log"; exit 1; }

cd "$work"
# The module itself: readings, the sampler, RequestScope, judge().
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$src/python/tests" >"$work/module.log" 2>&1 ||
  { cat "$work/module.log"; echo "python: the module's tests failed" >&2; exit 1; }

# The plugin loads through its pytest11 entry point: no -p flag.
set +e
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$src/examples/test_python_example.py" \
  >"$work/pytest.log" 2>&1
status=$?
set -e
cat "$work/pytest.log"
[ "$status" = 1 ] || { echo "python: pytest exited $status, expected 1 (one failure)" >&2; exit 1; }
grep -q "1 failed, 1 passed" "$work/pytest.log" ||
  { echo "python: expected 1 failed, 1 passed" >&2; exit 1; }
grep -q "FAILED .*test_leak_demo_keeps_every_payload" "$work/pytest.log" ||
  { echo "python: the leaking test did not fail" >&2; exit 1; }
for line in "verdict: FAIL: memory grows per iteration" "rate: " "95% interval" "peak: " \
  "kind: leak"; do
  grep -q -- "$line" "$work/pytest.log" || { echo "python: the failure lacks '$line'" >&2; exit 1; }
done

# --infermem applies a limit to a test without the marker.
cat >"$work/test_flag.py" <<'PY'
KEPT = []
def test_unmarked_leak():
    KEPT.append(bytearray(b"\x01" * 65536))
PY
if "$work/venv/bin/python" -m pytest -q -p no:cacheprovider --infermem=4KiB "$work/test_flag.py" \
  >"$work/flag.log" 2>&1; then
  cat "$work/flag.log"; echo "python: --infermem did not fail an unmarked leaking test" >&2; exit 1
fi
grep -q "kind: leak" "$work/flag.log" || { cat "$work/flag.log"; exit 1; }
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$work/test_flag.py" >"$work/noflag.log" 2>&1 ||
  { cat "$work/noflag.log"; echo "python: without --infermem the test should run once and pass" >&2; exit 1; }
echo "python: plugin installed with pip (no index); leak fails with the message, clean passes"
