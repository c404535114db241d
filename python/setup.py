# The infermem Python package: the C++ library's module (_infermem, built here with pybind11's
# setup helpers against an installed infermem found through pkg-config) and the pytest plugin.
#
#   cmake --install build --prefix PREFIX
#   /usr/bin/python3 -m venv --system-site-packages venv
#   PKG_CONFIG_PATH=PREFIX/lib/pkgconfig venv/bin/pip install --no-index --no-build-isolation python/
#
# Needs Debian's python3-setuptools, python3-pybind11 (pybind11-dev) and python3-dev; no registry.
import os
import shlex
import subprocess
import sys

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "infermem"], check=True, capture_output=True,
                             text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit("infermem: pkg-config cannot find an installed infermem (set PKG_CONFIG_PATH to "
                 f"PREFIX/lib/pkgconfig after `cmake --install build --prefix PREFIX`): {e}")
    return shlex.split(out)


here = os.path.dirname(os.path.abspath(__file__))
extension = Pybind11Extension(
    "infermem._infermem",
    [os.path.join("src", "_infermem.cpp")],
    cxx_std=20,
    extra_compile_args=pkg_config("--cflags"),
    extra_link_args=pkg_config("--libs"),
)

setup(
    name="infermem",
    version="0.1.0",
    description="Memory readings, request scopes and leak verdicts for ML inference processes, "
    "and a pytest plugin that fails tests whose memory grows",
    packages=["infermem"],
    ext_modules=[extension],
    cmdclass={"build_ext": build_ext},
    entry_points={"pytest11": ["infermem = infermem.pytest_plugin"]},
    python_requires=">=3.9",
    zip_safe=False,
)
