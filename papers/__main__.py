"""``python -m papers ...``: the same CLI as the ``papers`` command."""

from papers.cli import main

raise SystemExit(main())
