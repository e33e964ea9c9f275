"""``python -m devtools`` is ``python -m devtools.run``."""

from __future__ import annotations

import sys

from devtools.run import main

if __name__ == "__main__":
    sys.exit(main())
