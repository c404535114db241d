"""The Python module over the C++ library: readings, the sampler, RequestScope, judge()."""
import time

import pytest

import infermem


def test_readings_of_this_process():
    reading = infermem.read_self()
    assert reading["rss_bytes"] > 1 << 20
    assert "malloc_in_use_bytes" in reading or "allocator_is_jemalloc_count" in reading
    assert infermem.rss_bytes() > 1 << 20
    # VmHWM can trail VmRSS by the kernel's per-thread counter batches: a margin of 4 MiB.
    assert infermem.hwm_bytes() + (4 << 20) >= infermem.rss_bytes()


def test_sampler_takes_samples_and_scoped_peaks():
    sampler = infermem.Sampler(rate_hz=500)
    sampler.begin_scope()
    sampler.start()
    block = bytearray(64 << 20)  # zero-filled: resident
    time.sleep(0.05)
    del block
    sampler.stop()
    peak = sampler.end_scope()
    assert sampler.samples_taken > 0
    # The scope's maximum saw the 64 MiB block (the sampler ran while it was resident, and
    # the block was allocated and filled before the 50 ms sleep); 48 MiB leaves room for noise.
    assert peak["rss_bytes"] - infermem.rss_bytes() > 48 << 20
    assert all(isinstance(t, float) for t, _ in sampler.drain())


def test_request_scope_as_a_context_manager():
    with infermem.RequestScope(allocator=True) as scope:
        kept = bytearray(32 << 20)
    figures = scope.close()
    assert figures["growth_bytes"] > 24 << 20
    assert figures["allocator_in_use_growth_bytes"] >= 32 << 20
    del kept


def test_judge_on_a_series():
    flat = [100e6 + (i % 3) * 4096 for i in range(200)]
    assert infermem.judge(flat)["kind"] == "stable"
    leaking = [100e6 + i * 64 * 1024 for i in range(200)]
    verdict = infermem.judge(leaking, requests=list(range(200)))
    assert verdict["kind"] == "leak"
    assert verdict["growth_bytes_per_request"] == pytest.approx(64 * 1024, rel=0.05)
    assert verdict["evidence"]
    with pytest.raises(ValueError, match="requests has 3 values"):
        infermem.judge(flat, requests=[1, 2, 3])


def test_sizes_and_bad_input():
    assert infermem.parse_size("16KiB") == 16384
    with pytest.raises(infermem.InputError):
        infermem.parse_size("lots")
