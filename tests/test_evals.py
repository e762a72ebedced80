"""The eval harness end to end on the real index: dataset checks, outputs, comparison, diff, LLM judge."""

from __future__ import annotations

import json

import pytest

from common.errors import PapersError
from evals.dataset import load_dataset
from evals.diff import diff_runs
from evals.run import Options, run_eval
from tests.conftest import REPO

GOLD = REPO / "evals" / "datasets" / "gold.jsonl"


def write(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows), encoding="utf-8")
    return path


def test_gold_set_is_valid_and_covers_every_kind():
    questions = load_dataset(GOLD)
    kinds = {k: sum(q.kind == k for q in questions) for k in ("lookup", "subfield", "author", "abstain", "followup")}
    assert len(questions) >= 120 and kinds["subfield"] >= 15 and kinds["abstain"] >= 10
    assert all(kinds.values())


def test_hard_set_has_every_new_kind_with_a_frozen_split():
    questions = load_dataset(REPO / "evals" / "datasets" / "hard.jsonl")
    count = lambda **kw: sum(all(getattr(q, k) == v for k, v in kw.items()) for q in questions)  # noqa: E731
    assert count(kind="lookup") >= 100 and count(kind="compare") >= 20 and count(kind="overview") >= 15
    assert count(kind="abstain", abstain_kind="generic") >= 40 and count(kind="abstain", abstain_kind="in_domain") >= 60
    assert all(q.split in ("dev", "test") for q in questions) and count(split="test") >= len(questions) / 3
    assert all(1 <= len(q.facts) <= 3 for q in questions if q.kind == "lookup")


def test_compare_facts_and_abstain_kind_are_validated(tmp_path):
    path = write(tmp_path / "bad.jsonl", [
        {"id": "a", "question": "q?", "kind": "compare", "gold_titles": ["T1", "T2"], "facts": ["12%"]},
        {"id": "b", "question": "q?", "kind": "compare", "gold_titles": ["T1"]},
        {"id": "c", "question": "q?", "kind": "lookup", "gold_titles": ["T"], "abstain_kind": "generic"},
        {"id": "d", "question": "q?", "kind": "lookup", "gold_titles": ["T"], "facts": ["1", "2", "3", "4"]},
        {"id": "e", "question": "q?", "kind": "abstain", "abstain_kind": "sports"},
    ])
    with pytest.raises(PapersError) as err:
        load_dataset(path)
    msg = str(err.value)
    assert "4 bad line(s)" in msg and "line 2" in msg and "exactly two gold titles" in msg
    assert "line 3" in msg and "line 4" in msg and "line 5: abstain_kind" in msg and "line 1" not in msg


def test_malformed_lines_are_all_reported_with_line_numbers(tmp_path):
    path = write(tmp_path / "bad.jsonl", [
        {"id": "a", "question": "q?", "kind": "lookup", "gold_titles": ["T"]},
        "{not json",
        {"id": "b", "question": "q?", "kind": "opinion", "gold_titles": ["T"]},
        {"id": "c", "question": "q?", "kind": "abstain", "gold_titles": ["T"]},
        {"id": "d", "question": "q?", "kind": "followup", "gold_titles": ["T"]},
    ])
    with pytest.raises(PapersError) as err:
        load_dataset(path)
    msg = str(err.value)
    assert "4 bad line(s)" in msg and "line 2: invalid JSON" in msg and "line 3: kind" in msg
    assert "line 4" in msg and "no gold_titles" in msg and "line 5" in msg


def test_empty_dataset_is_refused(tmp_path):
    with pytest.raises(PapersError, match="holds no questions"):
        load_dataset(write(tmp_path / "empty.jsonl", [""]))


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    questions = [q.model_dump() for q in load_dataset(GOLD)]
    pick = [q for q in questions if q["kind"] == "lookup"][:3] + [q for q in questions if q["kind"] == "abstain"][:2] \
        + [q for q in questions if q["kind"] == "followup"][:1] + [q for q in questions if q["kind"] == "subfield"][:1]
    pick.append({"id": "ghost", "question": "Which paper introduced the transformer?", "kind": "lookup",
                 "gold_titles": ["Attention Is All You Need"]})
    return write(tmp_path_factory.mktemp("ds") / "small.jsonl", pick)


@pytest.mark.slow
def test_eval_writes_results_reports_and_plots(real_settings, small_set, tmp_path):
    out = tmp_path / "run"
    report = run_eval(Options(dataset=small_set, out=out, backend="extractive", compare=["bm25", "dense", "hybrid"],
                              progress=False), real_settings())
    for name in ("results.jsonl", "report.json", "report.md", "metrics_by_kind.png", "latency.png", "compare.png"):
        assert (out / name).is_file(), name
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and {"id", "question", "kind", "answer", "abstained", "citations", "sources", "latency_ms", "tokens"} <= set(rows[0])
    overall = report["runs"]["extractive"]["overall"]
    assert overall["citation_validity"] == 1.0 and overall["abstain_accuracy"] == 1.0
    assert report["unknown_gold_titles"] == {"ghost": ["Attention Is All You Need"]}
    assert "not in the index" in (out / "report.md").read_text()
    assert set(report["retrieval_comparison"]) == {"bm25", "dense", "hybrid"}


@pytest.mark.slow
def test_existing_output_dir_is_refused_without_force(real_settings, small_set, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(PapersError, match="pass --force"):
        run_eval(Options(dataset=small_set, out=out, progress=False), real_settings())
    assert (out / "keep.txt").exists()


@pytest.mark.slow
def test_diff_shows_questions_that_got_better_or_worse(real_settings, small_set, tmp_path):
    good = tmp_path / "good"
    run_eval(Options(dataset=small_set, out=good, backend="extractive", progress=False), real_settings())
    strict = tmp_path / "strict"  # an absurd abstention bar makes every answerable question abstain
    run_eval(Options(dataset=small_set, out=strict, backend="extractive", progress=False),
             real_settings(PAPERS_ANSWERABILITY_THRESHOLD="0.9999"))
    result = diff_runs(good, strict)
    assert result["metrics"]["false_abstention"]["delta"] > 0
    worse_ids = {e["id"] for e in result["worse"]}
    assert {"lookup-001", "lookup-002", "lookup-003"} <= worse_ids and not result["better"]


@pytest.mark.slow
def test_llm_judge_runs_against_the_real_server(real_settings, small_set, tmp_path, llama_server):
    settings = real_settings(PAPERS_OPENAI_BASE_URL=llama_server, PAPERS_LLM_MODEL="smollm2", PAPERS_CONTEXT_WINDOW="2048")
    report = run_eval(Options(dataset=small_set, out=tmp_path / "j", backend="extractive", judge="llm", limit=3,
                              progress=False), settings)
    overall = report["runs"]["extractive"]["overall"]
    assert "llm_unjudged" in overall
    judged = overall.get("llm_faithfulness")
    assert judged is None or 0.0 <= judged <= 1.0


def test_cli_eval_diff_needs_two_runs(run_cli):
    result = run_cli("eval", "diff", "only-one")
    assert result.returncode == 2 and "usage: papers eval diff" in result.stderr


@pytest.mark.slow
def test_generator_drafts_questions_marked_as_drafts(real_settings, llama_server, tmp_path):
    from evals.generate import draft_questions

    settings = real_settings(PAPERS_OPENAI_BASE_URL=llama_server, PAPERS_LLM_MODEL="smollm2", PAPERS_CONTEXT_WINDOW="2048")
    out = tmp_path / "drafts.jsonl"
    written = draft_questions(3, out, backend="openai", settings=settings)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert written >= 1 and len(rows) == written and all(r["draft"] is True and len(r["gold_titles"]) == 1 for r in rows)
    titles = {p.title for p in __import__("assistant").corpus_papers(settings)}
    assert all(r["gold_titles"][0] in titles for r in rows)
    load_dataset(out)  # drafts are valid dataset lines
