"""Build of the one C extension, ``soundy.analysis._kernels``; everything else is in pyproject.toml.

Plain C (CPython API and the buffer protocol, no numpy headers): gcc or clang and the Python
headers are all it needs.
"""

import sys

from setuptools import Extension, setup

flags = (
    [] if sys.platform == "win32" else ["-O3", "-std=c99", "-ffp-contract=off", "-fno-fast-math"]
)

setup(
    ext_modules=[
        Extension(
            "soundy.analysis._kernels",
            sources=["src/soundy/analysis/_kernels.c"],
            extra_compile_args=flags,
        )
    ]
)
