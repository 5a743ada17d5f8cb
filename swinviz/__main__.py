"""`python -m swinviz ...`: see swinviz.cli."""

from .cli import main

raise SystemExit(main())
