"""infermem: memory of ML inference processes, from inside Python.

Readings of this process (rss_bytes, hwm_bytes, read_self), the background Sampler, RequestScope
(peak and growth of one request), judge() (the verdict engine on a series) and LoopCheck (the
check behind the pytest plugin: @pytest.mark.infermem(max_growth="16KiB", max_peak="300MiB")).
"""
from ._infermem import (  # noqa: F401
    InputError,
    LoopCheck,
    RequestScope,
    Sampler,
    __version__,
    allocator_in_use_bytes,
    format_bytes,
    hwm_bytes,
    judge,
    parse_size,
    read_process,
    read_self,
    reset_hwm,
    rss_bytes,
)


def check_loop(body, max_growth="16KiB", max_peak=None, min_iterations=40, max_iterations=5000,
               allow_undecided=False):
    """Run body() in a loop until the verdict engine could see max_growth per iteration; returns
    the report (a dict: passed, message, kind, rate_bytes, rate_ci_bytes, peak_bytes, ...)."""
    check = LoopCheck(_size(max_growth), None if max_peak is None else _size(max_peak),
                      min_iterations, max_iterations, allow_undecided)
    check.begin()
    done = 0
    while True:
        while done < check.target():
            body()
            check.record()
            done += 1
        if not check.need_more():
            break
    return check.finish()


def _size(value):
    return float(value) if isinstance(value, (int, float)) else float(parse_size(str(value)))
