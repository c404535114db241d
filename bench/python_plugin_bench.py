"""Cost of the pytest plugin per iteration (docs/guide.md): the reading taken after every iteration
(statm and the allocator's in-use bytes), and the whole check (readings plus the verdict engine at
each doubling of the loop) on a clean body for several max_growth caps, against the same body in a
bare loop. Medians of 5 rounds.

Run with the Python the plugin is installed in (tests/consumer/run_python.sh leaves a venv in
build/python-consumer/venv): build/python-consumer/venv/bin/python bench/python_plugin_bench.py
"""
import statistics
import time

import infermem



def body():
    bytearray(1024)


def bare(iterations):
    start = time.perf_counter()
    for _ in range(iterations):
        body()
    return time.perf_counter() - start


def reading_cost(iterations=20000):
    check = infermem.LoopCheck(1024.0, None, iterations, iterations, True)
    check.begin()
    start = time.perf_counter()
    for _ in range(iterations):
        check.record()
    return (time.perf_counter() - start) / iterations * 1e6


def checked(cap):
    start = time.perf_counter()
    report = infermem.check_loop(body, max_growth=cap)
    return time.perf_counter() - start, report["iterations"]


def main():
    readings = statistics.median(reading_cost() for _ in range(5))
    print(f"one reading after an iteration (statm + allocator): {readings:.2f} us")
    for cap in ("64KiB", "16KiB", "4KiB", "1KiB"):
        rounds = [checked(cap) for _ in range(5)]
        total = statistics.median(t for t, _ in rounds)
        iterations = statistics.median(n for _, n in rounds)
        base = bare(int(iterations))
        print(f"max_growth {cap:>5}: {iterations:5.0f} iterations, {total * 1e3:8.1f} ms in all, "
              f"plugin cost {(total - base) / iterations * 1e6:8.1f} us/iteration")


if __name__ == "__main__":
    main()
