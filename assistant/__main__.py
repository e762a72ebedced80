"""``python -m assistant ...``: kept working as before; an entry point, so it sits with the interfaces
(the layering test treats every ``__main__`` module that way) and runs the ``papers`` CLI."""

from papers.cli import main

raise SystemExit(main())
