"""Quiet imports of dm-clrs for the command lines: TensorFlow (which ``import clrs`` loads)
and absl print start-up lines (oneDNN, CUDA stubs, "Sampling dataset on-the-fly") that say
nothing about eqgat. The CLIs call ``quiet_clrs()`` unless ``--verbose`` is given; the
library itself changes no global setting."""

import contextlib
import logging
import os
import sys


@contextlib.contextmanager
def _stderr_to_devnull():
    """Point file descriptor 2 at /dev/null (C++ logging writes there directly)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def quiet_clrs() -> None:
    """Hide TensorFlow's and absl's start-up logging and absl's warnings (e.g. dm-clrs'
    "Increasing hint lengh") from stderr. dm-clrs (and TensorFlow) is imported here, with
    its start-up lines swallowed, only if something already imported it; the commands
    sample with ``eqgat.data.samplers`` and never need it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "clrs" in sys.modules:
        with _stderr_to_devnull():
            import clrs  # noqa: F401
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
