"""The 10M benchmark's memory sampler counts each process's own memory once.

A child forked a moment ago that has not yet run its program reads its parent's memory (a vfork
shares the parent's address space): at 50M one such `git` child made the build's 3.15 GB count
twice. Such a child is left out; a child running its own program, or one that lives on without
exec, is counted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from marts_10m import _unexeced


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks a child (POSIX)")
def test_a_child_not_yet_execed_is_left_out_and_an_execed_or_older_one_counted() -> None:
    pid = os.fork()
    if pid == 0:  # the child: the parent's program, never exec'ed
        time.sleep(2)
        os._exit(0)
    try:
        time.sleep(0.1)
        assert _unexeced(psutil.Process(pid))
        time.sleep(1.1)  # a second old: a fork pool's worker, say, with memory of its own
        assert not _unexeced(psutil.Process(pid))
    finally:
        os.waitpid(pid, 0)
    running = subprocess.Popen(["sleep", "1"])
    try:
        time.sleep(0.1)
        assert not _unexeced(psutil.Process(running.pid))
    finally:
        running.wait()
