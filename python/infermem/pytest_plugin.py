"""pytest plugin: a test whose memory grows fails.

    @pytest.mark.infermem(max_growth="16KiB", max_peak="300MiB")
    def test_handler(session):
        handle(session, request())

runs the test body in a loop (fixtures are set up once), reads this process after every
iteration, and lets infermem's verdict engine judge the whole series. The loop count is chosen
from max_growth: it doubles from min_iterations until the engine could see half of max_growth per
iteration, up to max_iterations. The test fails when the engine calls the series a leak whose
rate can reach max_growth, when the process's peak (VmHWM during the loop) passes max_peak, or
when the ceiling came before max_growth could be seen. The message is four lines: verdict, rate
with its interval, peak, kind.

`pytest --infermem` applies a default limit (16KiB per iteration) to every test without the
marker; `--infermem=4KiB` sets it. Registered under the pytest11 entry point: installed, it loads
with no flag.
"""
import inspect

import pytest

from . import LoopCheck, _size

DEFAULT_MAX_GROWTH = "16KiB"


def pytest_addoption(parser):
    group = parser.getgroup("infermem", "memory growth checks (infermem)")
    group.addoption(
        "--infermem", action="store", nargs="?", const=DEFAULT_MAX_GROWTH, default=None,
        metavar="MAX_GROWTH",
        help="run every test body in a loop and fail it when memory grows MAX_GROWTH or more "
        f"per iteration (default {DEFAULT_MAX_GROWTH})")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "infermem(max_growth='16KiB', max_peak=None, min_iterations=40, max_iterations=5000, "
        "allow_undecided=False): run the test body in a loop and fail when memory grows")


def _limits(item):
    marker = item.get_closest_marker("infermem")
    default = item.config.getoption("infermem")
    if marker is None and default is None:
        return None
    kwargs = dict(marker.kwargs) if marker is not None else {}
    unknown = set(kwargs) - {"max_growth", "max_peak", "min_iterations", "max_iterations",
                             "allow_undecided"}
    if unknown:
        raise pytest.UsageError(
            f"infermem: unknown argument(s) {sorted(unknown)} in @pytest.mark.infermem on "
            f"{item.nodeid}")
    try:
        max_growth = _size(kwargs.get("max_growth", default or DEFAULT_MAX_GROWTH))
        max_peak = kwargs.get("max_peak")
        max_peak = None if max_peak is None else _size(max_peak)
    except ValueError as e:
        raise pytest.UsageError(f"infermem: {item.nodeid}: {e}") from None
    return LoopCheck(max_growth, max_peak, int(kwargs.get("min_iterations", 40)),
                     int(kwargs.get("max_iterations", 5000)),
                     bool(kwargs.get("allow_undecided", False)))


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    check = _limits(pyfuncitem)
    if check is None:
        return None
    function = pyfuncitem.obj
    if inspect.iscoroutinefunction(function):
        return None  # left to the async plugin, unchecked
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    check.begin()
    done = 0
    while True:
        while done < check.target():
            function(**args)
            check.record()
            done += 1
        if not check.need_more():
            break
    report = check.finish()
    pyfuncitem.user_properties.append(("infermem", report["message"]))
    if not report["passed"]:
        pytest.fail(report["message"], pytrace=False)
    return True
