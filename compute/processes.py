"""Child processes that never outlive their parent."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux).

    :param parent_pid: the parent this process was started by; if it is
        already gone (it died before this call), exit at once.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)


def background_helper(parent_pid: int) -> None:
    """Set up a helper process: lowest priority, and gone with its parent."""
    os.nice(19)
    die_with_parent(parent_pid)
