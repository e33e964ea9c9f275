"""``python -m soak``: see ``soak.cli``."""

from __future__ import annotations

if __name__ == "__main__":  # client processes (spawn) import this module too
    from soak.cli import main

    raise SystemExit(main())
