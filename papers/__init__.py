"""Interfaces outside the core: the ``papers`` command (and the HTTP and MCP servers beside it).

Thin layers over ``assistant``'s public API, ``ingest`` and ``evals``: they parse, call one library
function and print. Nothing below imports from here.
"""
