"""`python -m bench`: see bench/run_all.py."""

import sys
from pathlib import Path

# The benchmarks are scripts importing their neighbours (`_report`, `summary`) by name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_all import main

sys.exit(main())
