"""Shared ground below every layer: settings, user-facing errors and the offline environment.

Imports nothing of ours. ``ingest`` (the writer) and ``assistant`` (the reader) both build on it, so the
writer never needs the reader's package.
"""

from common import offline as _offline  # noqa: F401  (sets offline env vars before any model library loads)
