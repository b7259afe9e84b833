"""Is .venv usable by `make`? Prints `ok`, `absent`, or `stale: <why>` (then make rebuilds it).

A .venv made by another Python (another version, or an interpreter that was since removed or
upgraded in place) breaks `make run` in confusing ways; `make` runs this with the Python it
would build with and starts over when the answer is stale. With `--require`, exits 1 with a
message when that Python itself is too old. Kept to old syntax: it must run on any python3.
"""

import os
import subprocess
import sys

NEEDED = (3, 11)


def state(venv):
    py = os.path.join(venv, "bin", "python")
    if not os.path.isdir(venv):
        return "absent"
    if not os.path.exists(py):
        return f"stale: {venv} has no working interpreter (its Python was removed or upgraded)"
    try:
        out = subprocess.run(
            [py, "-c", "import sys, pip; print('{}.{}'.format(*sys.version_info[:2]))"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return f"stale: {venv}/bin/python does not run"
    if out.returncode != 0:
        return f"stale: {venv}/bin/python does not run or has no pip"
    theirs = out.stdout.decode().strip()
    ours = "{}.{}".format(*sys.version_info[:2])
    if theirs != ours:
        return f"stale: {venv} was made by Python {theirs}, not this Python {ours} ({sys.executable})"
    return "ok"


def main(argv):
    if "--require" in argv:
        if sys.version_info[:2] < NEEDED:
            sys.stderr.write(
                "Fanout needs Python >= {}.{}; {} is {}.{}. Run make with PYTHON=python3.11 (or newer).\n".format(
                    *NEEDED, sys.executable, *sys.version_info[:2]
                )
            )
            return 1
        return 0
    venv = argv[1] if len(argv) > 1 else ".venv"
    print(state(venv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
