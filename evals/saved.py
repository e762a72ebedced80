"""Saved eval runs: where the UI's Evals page finds them (diffs come from ``evals.diff.diff_runs``)."""

from __future__ import annotations

from pathlib import Path

from common.settings import Settings

BUNDLED_RUNS = Path(__file__).resolve().parent / "runs"


def eval_runs(settings: Settings | None = None) -> list[Path]:
    """Saved eval runs (folders with a report.json), newest first: the configured folder plus evals/runs/."""
    settings = settings or Settings()
    roots = [settings.ui.eval_runs_dir, BUNDLED_RUNS]
    runs = [p.parent for root in roots if root.is_dir() for p in root.glob("*/report.json")]
    return sorted(set(runs), key=lambda p: p.stat().st_mtime, reverse=True)
