#!/usr/bin/env python3
"""netsim as a library from an installed tree (docs/library.md): installs the build into a fresh
prefix (cmake --install), configures examples/ against it with find_package(netsim) and nothing
else from the source tree, builds both examples and runs them (the GoogleTest listener-shadowing
test and the delivery-counting trace sink). Also checks that the installed headers are only the
public <netsim/...> set.
usage: check_library.py SOURCE_DIR BUILD_DIR WORK_DIR"""
import os
import shutil
import subprocess
import sys


def run(cmd, **kw):
    print("library:", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        print(r.stdout[-6000:], r.stderr[-6000:])
        print(f"library: FAIL: {' '.join(cmd)} exited {r.returncode}")
        sys.exit(1)
    return r.stdout


def main():
    source, build, work = (os.path.abspath(a) for a in sys.argv[1:4])
    shutil.rmtree(work, ignore_errors=True)
    prefix = os.path.join(work, "prefix")
    run(["cmake", "--install", build, "--prefix", prefix])
    headers = sorted(os.listdir(os.path.join(prefix, "include", "netsim")))
    public = sorted(os.listdir(os.path.join(source, "include", "netsim")))
    if headers != public or os.listdir(os.path.join(prefix, "include")) != ["netsim"]:
        print(f"library: FAIL: installed headers {headers}, public headers {public}")
        sys.exit(1)
    examples = os.path.join(work, "examples")
    configure = ["cmake", "-S", os.path.join(source, "examples"), "-B", examples,
                 f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"]
    if shutil.which("ccache"):
        configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
    run(configure)
    run(["cmake", "--build", examples, "-j2"])
    print(run(["ctest", "--test-dir", examples, "--output-on-failure"]))
    print(run([os.path.join(examples, "count_deliveries")]))
    print("library: both examples built against the installed netsim with find_package and passed")


if __name__ == "__main__":
    main()
