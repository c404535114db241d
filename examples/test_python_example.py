"""pytest with infermem's plugin: a request handler's loop must not grow.

Two handlers: one keeps 16 KiB of every request (a cache that never evicts), one does not.
test_leak_demo_* FAILS ON PURPOSE to show what a failure reads like (the ctest that runs this
file checks it fails). In a real suite keep only checks like test_handler_does_not_grow.

Install (no registry): see README.md, "The pytest plugin".
"""
import pytest

KEPT = []


def handle(request, keep):
    payload = bytearray(16 * 1024)  # 16 KiB: from malloc, not Python's small-object arenas
    payload[::4096] = b"\x01" * 4  # touch every page
    if keep:
        KEPT.append(payload)  # the leak: nothing evicts
    return sum(payload[::512])


@pytest.fixture
def counter():
    return iter(range(10**9))


@pytest.mark.infermem(max_growth="4KiB", max_peak="2GiB")
def test_handler_does_not_grow(counter):
    handle(next(counter), keep=False)


@pytest.mark.infermem(max_growth="4KiB")
def test_leak_demo_keeps_every_payload(counter):
    handle(next(counter), keep=True)
