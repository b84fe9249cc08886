"""``python -m eqgat {demo,compile,verify,show,train,evaluate,faithfulness}``."""

import sys

from .cli import main

sys.exit(main())
