"""Optional dependencies, imported only where they are needed. dm-clrs (with TensorFlow,
tfds and Haiku) is the extra ``eqgat[clrs]``: ``import eqgat``, sampling (NumPy backend),
compiling, verifying, training and every command run without it."""

import importlib
from types import ModuleType

#: The command that installs dm-clrs with eqgat.
CLRS_INSTALL = "pip install 'eqgat[clrs]'"


def import_clrs(module: str = "clrs", *, needed_by: str) -> ModuleType:
    """Import ``module`` of dm-clrs (``"clrs"`` or a submodule such as
    ``"clrs._src.probing"``).

    **Arguments:**

    - `module`: the dotted name to import.
    - `needed_by`: what needs it, for the error message (e.g. ``'backend="clrs"'``).

    **Returns:**

    The module.

    **Raises:**

    ``ImportError`` naming ``needed_by`` and the extra to install when dm-clrs is not installed.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if (err.name or "").partition(".")[0] != "clrs":
            raise  # dm-clrs is there but something it imports is not: its own message says what
        raise ImportError(f"{needed_by} needs dm-clrs, which is not installed; it is an optional extra "
                          f"of eqgat: {CLRS_INSTALL}") from err
