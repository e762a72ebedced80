"""papers-assistant: cited answers over a corpus of ML paper abstracts.

Kept import-light on purpose: ``ingest`` imports ``assistant.settings`` and the CLI must start fast.
"""

from assistant import offline as _offline  # noqa: F401  (sets offline env vars before any model library loads)
