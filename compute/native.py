"""Choose the FLINT build behind python-flint: native (built here) or the wheel.

``make native`` builds FLINT for this CPU (with its AVX2 FFT multiplication)
and python-flint against it into native/python. This module must run before
anything imports flint: it puts that folder first on sys.path when it exists.
PI_ENGINE=portable forces the wheel; PI_ENGINE=native fails if not built.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from compute.engine_info import NATIVE_PYTHON
from compute.engine_info import native_built
from compute.engine_info import wanted_engine


def activate() -> str:
    """Make ``import flint`` load the native build if wanted and built.

    Returns "native" or "portable", the build that ``import flint`` will load.
    """
    wanted = wanted_engine()
    built = native_built()
    if wanted == "native" and not built:
        raise RuntimeError("PI_ENGINE=native, but the native engine is not built: run `make native`")
    if wanted == "portable" or not built:
        return "portable"
    if "flint" in sys.modules:
        loaded_from = Path(sys.modules["flint"].__file__ or "").resolve()
        return "native" if NATIVE_PYTHON in loaded_from.parents else "portable"
    sys.path.insert(0, str(NATIVE_PYTHON))
    try:
        import flint  # noqa: F401 - loaded here so that a broken build falls back
    except ImportError as error:
        # A half-finished or moved build (its FLINT library gone): use the wheel.
        sys.path.remove(str(NATIVE_PYTHON))
        for name in [name for name in sys.modules if name == "flint" or name.startswith("flint.")]:
            del sys.modules[name]
        if wanted == "native":
            raise RuntimeError(f"PI_ENGINE=native, but the native engine does not load: {error}") from error
        warnings.warn(f"native engine does not load ({error}); using the portable wheel", stacklevel=2)
        return "portable"
    return "native"
