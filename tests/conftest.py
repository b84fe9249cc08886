import atexit
import os
import shutil
import tempfile

# Tests run on CPU with deterministic, single-threaded-ish XLA; keep logs quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

# The tests compile far more than they run (small graphs, a few steps): XLA:CPU with
# LLVM's optimisation level 0 compiles ~30% faster (measured on 2 cores: each reproduce
# smoke group 163 -> 101 s; the whole suite with them 9:28, without them at the default
# level 9:14). Every numerical assertion holds at either level.
if "--xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()

# Compiled programs are cached on disk for one test run (JAX's persistent compilation
# cache), so a program that another test, xdist worker or subprocess compiled already is
# loaded, not rebuilt. The first process to get here (pytest's controller) makes the folder
# and removes it at exit; workers and subprocesses inherit it through the environment.
# Tests that count compiles switch the cache off around themselves (``no_compile_cache``).
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="eqgat-tests-jax-cache-")
    atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")

# Hypothesis (tests/test_properties.py) keeps no example database (``database=None``) but
# caches the constants it reads from the source in ``.hypothesis/``: that goes to a
# folder of this run's, removed at exit, as the JAX cache above.
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = tempfile.mkdtemp(prefix="eqgat-tests-hypothesis-")
    atexit.register(shutil.rmtree, os.environ["HYPOTHESIS_STORAGE_DIRECTORY"], ignore_errors=True)

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update("jax_persistent_cache_min_compile_time_secs",
                  float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]))


@pytest.fixture
def no_compile_cache():
    """Compile everything afresh in this test (for tests that count XLA compiles)."""
    jax.config.update("jax_enable_compilation_cache", False)
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", True)


@pytest.fixture(autouse=True)
def _stay_under_the_map_limit():
    """After each test, drop JAX's in-memory compiled programs if the process holds many
    memory maps: one xdist worker running half the suite passed Linux's default limit of
    65,530 (vm.max_map_count) and segfaulted in the next compile (``eqgat.workflows.mmaps``).
    Programs needed again load from the on-disk cache above."""
    yield
    from eqgat.workflows.mmaps import release_if_crowded

    release_if_crowded()
