"""pip install ./python: the asoc package against an installed libasoc.

Finds libasoc with pkg-config (asoc.pc, installed by make install); works
offline with Debian's python3-setuptools:

    pip install --no-build-isolation --no-index ./python
"""
import shlex
import subprocess

from setuptools import Extension, setup


def pkgconfig(*args):
    try:
        out = subprocess.run(["pkg-config"] + list(args) + ["asoc"],
                             check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit("pip install ./python: pkg-config cannot find "
                         "libasoc (asoc.pc): install ASoc first (make "
                         "install), or set PKG_CONFIG_PATH to where asoc.pc "
                         "is (%s)" % e)
    return shlex.split(out.stdout)


cflags = pkgconfig("--cflags")
libs = pkgconfig("--libs")
libdirs = [f[2:] for f in libs if f.startswith("-L")]

setup(
    name="asoc",
    version="0.1.0",
    description="numpy and PyTorch tensors between nodes through asocd",
    packages=["asoc"],
    python_requires=">=3.7",
    # numpy (python3-numpy) is needed at run time; not declared, so that
    # pip, offline, does not look for it on an index.
    ext_modules=[Extension(
        "asoc._asoc", ["asoc/_asoc.c"],
        include_dirs=[f[2:] for f in cflags if f.startswith("-I")],
        library_dirs=libdirs,
        libraries=[f[2:] for f in libs if f.startswith("-l")],
        runtime_library_dirs=libdirs,
    )],
)
