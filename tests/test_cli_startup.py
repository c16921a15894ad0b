"""Starting ``bnviz``: the package import loads nothing heavy, so a Ctrl-C while NumPy loads
(the first tenths of a second) gets the command's one line and exit 130, not a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CTRL_C_DURING_NUMPY = """
import builtins, sys
real_import = builtins.__import__

def interrupted(name, *args, **kwargs):
    if name == "numpy" or name.startswith("numpy."):
        raise KeyboardInterrupt  # what a Ctrl-C while NumPy loads raises
    return real_import(name, *args, **kwargs)

builtins.__import__ = interrupted
from bnviz.cli import main  # what the console script does
sys.exit(main(["train", "--steps", "1"]))
"""


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_package_and_the_command_line_import_without_numpy():
    done = run_python(
        "import sys, bnviz, bnviz.cli; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('numpy', 'PySide6', 'pyqtgraph')))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_ctrl_c_while_numpy_loads_is_one_line_and_exit_130():
    done = run_python(CTRL_C_DURING_NUMPY)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == "bnviz: cancelled (Ctrl-C)"


def test_the_public_names_load_on_first_use():
    done = run_python(
        "import bnviz\n"
        "assert set(bnviz.__all__) <= set(dir(bnviz))\n"
        "from bnviz import Trainer, softmax, load_dataset\n"
        "assert Trainer.__module__ == 'bnviz.train.trainer'\n"
        "try:\n    bnviz.nothing_here\nexcept AttributeError as e:\n    print(e)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "has no attribute 'nothing_here'" in done.stdout


def test_ctrl_c_ends_the_worker_processes_it_left_waiting():
    """Python joins its non-daemon children at exit: a pool worker the interrupt caught before the
    pool could stop it waits for work forever, and the exit hung. main() ends them."""
    code = textwrap.dedent("""
        import multiprocessing, sys, time
        from bnviz import cli

        def interrupted(argv):
            multiprocessing.get_context("spawn").Process(target=time.sleep, args=(600,)).start()
            raise KeyboardInterrupt

        if __name__ == "__main__":
            cli._main = interrupted
            sys.exit(cli.main([]))
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 130, p.stderr
    assert p.stderr.strip().splitlines()[-1] == "bnviz: cancelled (Ctrl-C)"
