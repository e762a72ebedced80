"""Freeze a random test split: ``python -m evals.split evals/datasets/FILE.jsonl``.

Each question without a ``split`` gets one: ``test`` for a random 35% (at least a third) of them, stratified
by kind (and ``abstain_kind``), ``dev`` for the rest. The draw uses the operating system's randomness, not a
fixed seed: with a seed re-set on every run, a new row's split depended only on its position among the batch's
new rows of its kind, so whoever wrote the rows could have placed them to pick their split (the splits are
stored in the file, so nothing needs reproducing; ``seed`` exists for tests). Questions that already have a
split keep it, so the test split stays frozen as the set grows. Thresholds and models are fitted on
``dev`` only; ``test`` is reported beside it and never tuned on.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

TEST_SHARE = 0.35


def assign_splits(path: Path, test_share: float = TEST_SHARE, seed: int | None = None) -> dict[str, int]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.SystemRandom() if seed is None else random.Random(f"{seed}:{path.name}")
    by_kind: dict[str, list[dict]] = {}
    for row in rows:
        if row.get("split") is None:
            by_kind.setdefault(row["kind"] + ":" + (row.get("abstain_kind") or ""), []).append(row)
    for kind in sorted(by_kind):
        new = by_kind[kind]
        order = sorted(range(len(new)), key=lambda i: rng.random())
        n_test = math.ceil(len(new) * test_share)
        for rank, i in enumerate(order):
            new[i]["split"] = "test" if rank < n_test else "dev"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["split"]] = counts.get(row["split"], 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    for path in parser.parse_args().datasets:
        print(path, assign_splits(path))


if __name__ == "__main__":
    main()
