import os

# Tests run on CPU with deterministic, single-threaded-ish XLA; keep logs quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
