"""Freezing a test split: new questions get one, old ones keep theirs, the draw is not fixed by row position."""

import json

from evals.split import assign_splits


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _splits(path):
    return [json.loads(line).get("split") for line in path.read_text(encoding="utf-8").splitlines()]


def test_new_questions_get_a_third_to_test_and_frozen_ones_keep_their_split(tmp_path):
    path = tmp_path / "set.jsonl"
    frozen = [{"id": f"old-{i}", "kind": "lookup", "split": "dev"} for i in range(5)]
    _write(path, frozen + [{"id": f"new-{i}", "kind": "lookup"} for i in range(30)])
    assign_splits(path)
    splits = _splits(path)
    assert splits[:5] == ["dev"] * 5
    assert splits[5:].count("test") == 11  # ceil(30 * 0.35), the rest dev
    assert set(splits[5:]) == {"dev", "test"}


def test_a_rows_split_does_not_follow_from_its_position_in_the_batch(tmp_path):
    drawn = []
    for run in range(8):
        (tmp_path / str(run)).mkdir()
        path = tmp_path / str(run) / "set.jsonl"
        _write(path, [{"id": f"q-{i}", "kind": "lookup"} for i in range(12)])
        assign_splits(path)
        drawn.append(tuple(_splits(path)))
    assert len(set(drawn)) > 1  # a fixed seed gave the same splits for the same positions every time
