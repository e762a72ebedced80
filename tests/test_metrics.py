"""Metric functions against hand-computed examples, ties and empty gold sets included."""

from __future__ import annotations

import math

import pytest

from evals import metrics as M
from evals.judge import offline_faithfulness, parse_verdict

RANKED = ["a", "b", "c", "d", "e", "f"]


def test_hit_recall_mrr_on_a_hand_example():
    gold = {"b", "e", "z"}
    assert M.hit_at(RANKED, gold, 1) == 0.0 and M.hit_at(RANKED, gold, 2) == 1.0
    assert M.recall_at(RANKED, gold, 5) == pytest.approx(2 / 3)
    assert M.mrr_at(RANKED, gold, 10) == 0.5


def test_ndcg_hand_computed():
    gold = {"b", "e"}
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert M.ndcg_at(RANKED, gold, 10) == pytest.approx(dcg / ideal)
    assert M.ndcg_at(["b", "e"], gold, 10) == pytest.approx(1.0)


def test_empty_gold_scores_zero_not_an_error():
    assert M.recall_at(RANKED, set(), 5) == 0.0 and M.ndcg_at(RANKED, set(), 10) == 0.0
    assert M.mrr_at(RANKED, set(), 10) == 0.0 and M.citation_recall(["a"], set()) is None


def test_mrr_cutoff_and_ties_count_the_first_rank_only():
    assert M.mrr_at(RANKED, {"f"}, 5) == 0.0
    assert M.mrr_at(RANKED, {"c", "d"}, 10) == pytest.approx(1 / 3)


def test_citation_metrics():
    assert M.citation_validity(["a", "x"], ["a", "b"]) == 0.5
    assert M.citation_validity([], ["a"]) == 1.0
    assert M.citation_precision(["a", "b", "c"], {"a"}, {"b"}) == pytest.approx(2 / 3)
    assert M.citation_precision([], {"a"}, set()) is None
    assert M.citation_recall(["a"], {"a", "b"}) == 0.5


def test_percentiles_and_means_skip_none():
    assert M.percentile([4, 1, 3, 2], 50) == 2 and M.percentile([4, 1, 3, 2], 95) == 4
    assert M.percentile([], 50) is None
    assert M.mean([1.0, None, 0.0]) == 0.5 and M.mean([None]) is None


def test_offline_faithfulness_counts_supported_sentences_and_citations():
    cited = {1: "We propose TAROT, a data selection framework based on optimal transport.",
             2: "KOALA++ is a Kalman-based optimizer."}
    f = offline_faithfulness("TAROT selects data with optimal transport [1]. KOALA++ folds proteins with quantum annealing [1][2].", cited)
    assert (f.sentences, f.supported) == (2, 1)
    assert (f.citations, f.supporting_citations) == (3, 1)
    assert f.citation_recall == 0.5 and f.citation_precision == pytest.approx(1 / 3)


@pytest.mark.parametrize("text, verdict", [
    ("Yes.", True), ("no", False), ("YES, it is supported", True), ("The answer is no.", False),
    ("", None), ("maybe", None), ("yes and no", None), ("<|im_end|>", None),
])
def test_judge_output_parsing_is_robust(text, verdict):
    assert parse_verdict(text) is verdict


def test_facts_recall_folds_case_spacing_and_number_formatting():
    answer = "KOALA++ reaches 94.0 Pass@1, uses 1 000 steps and gains 10.11 % over the baseline [1]."
    assert M.facts_recall(answer, ["94.0 pass@1", "1,000 steps", "10.11\\%"]) == 1.0
    assert M.facts_recall(answer, ["94.0", "350{,}757"]) == 0.5
    assert M.facts_recall("a 110% gain", ["10%"]) == 0.0  # a fact is a whole token, not a substring
    assert M.facts_recall(answer, []) is None


def test_compare_needs_every_gold_paper_cited():
    assert M.cites_all(["A", "B", "C"], ["A", "B"]) and not M.cites_all(["A"], ["A", "B"])
