"""The parser on each real layout, with expectations read off the raw files."""

from __future__ import annotations

import pytest

from ingest.parse import parse_author_line, parse_date, parse_text
from tests.conftest import CORPUS

FILES = {p.name[:3]: p for p in CORPUS.glob("*.txt")}


def parse(prefix: str):
    path = FILES[prefix]
    papers, skipped = parse_text(path.read_text(encoding="utf-8"), path.name)
    return {p.title: p for p in papers}, skipped


def test_each_file_yields_every_document_and_skips_nothing():
    counts = {prefix: len(parse(prefix)[0]) for prefix in FILES}
    assert counts == {"000": 10, "001": 41, "002": 50, "003": 101, "004": 73}
    assert all(not parse(prefix)[1] for prefix in FILES)


def test_title_authors_abstract_layout_reads_authors_as_first_last():
    papers, _ = parse("000")
    paper = papers["Beyond Accuracy: Dissecting Mathematical Reasoning for LLMs Under Reinforcement Learning"]
    assert paper.authors == [
        "Jiayu Wang", "Yifei Ming", "Zixuan Ke", "Caiming Xiong", "Shafiq Joty", "Aws Albarghouthi", "Frederic Sala",
    ]
    assert paper.abstract.startswith("Reinforcement learning (RL) has become the dominant paradigm")
    assert paper.abstract.endswith("https://sparkle-reasoning.github.io/.")
    assert paper.date is None and paper.author_count is None
    assert papers["Improved Regret and Contextual Linear Extension for Pandora's Box and Prophet Inequality"].authors[-1] == "Lillian J. Ratliff"


def test_mojibake_in_author_names_is_repaired():
    papers, _ = parse("000")
    assert papers["Identifying Super Spreaders in Multilayer Networks"].authors == [
        "Michał Czuba", "Mateusz Stolarski", "Adam Piróg", "Piotr Bielak", "Piotr Bródka",
    ]
    mess = next(p for t, p in papers.items() if t.startswith("MESS+"))
    assert mess.authors[0] == "Herbert Woisetschläger"


def test_daily_papers_footer_gives_author_count_and_date():
    papers, _ = parse("001")
    infi = papers["InfiGFusion: Graph-on-Logits Distillation via Efficient Gromov-Wasserstein for Model Fusion"]
    assert (infi.author_count, infi.date, infi.year) == (7, "May 19, 2025", 2025)
    assert infi.authors == []
    assert infi.abstract.endswith("demonstrating superior multi-step and relational inference.")


def test_date_without_year_is_kept_without_inventing_one():
    papers, _ = parse("001")
    limits = papers["Limits of n-gram Style Control for LLMs via Logit-Space Injection"]
    assert (limits.author_count, limits.date, limits.year) == (1, "Jan 12", None)


def test_trailing_upvote_count_is_not_part_of_the_date():
    papers, _ = parse("001")
    cog = papers["Cog-DRIFT: Exploration on Adaptively Reformulated Instances Enables Learning from Hard Reasoning Problems"]
    assert (cog.date, cog.year) == ("Apr 5", None)
    outcome = papers["Exploring the Limit of Outcome Reward for Learning Mathematical Reasoning"]
    assert (outcome.author_count, outcome.date, outcome.year) == (17, "Feb 10, 2025", 2025)


def test_organisation_footer_replaces_the_author_count():
    papers, _ = parse("001")
    low = papers["Low-probability Tokens Sustain Exploration in Reinforcement Learning with Verifiable Reward"]
    assert (low.organization, low.author_count, low.date) == ("tencent Tencent", None, "Oct 3, 2025")


def test_paper_without_footer_is_still_a_paper():
    papers, _ = parse("001")
    paper = papers["From P(y|x) to P(y): Investigating Reinforcement Learning in Pre-train Space"]
    assert paper.date is None and paper.author_count is None and len(paper.abstract) > 500
    assert "Debiasing Machine Learning Predictions for Causal Inference Without Additional Ground Truth Data: " \
        "\"One Map, Many Trials\" in Satellite-Driven Poverty Analysis" in papers


def test_bare_title_abstract_layout():
    papers, _ = parse("002")
    titles = list(papers)
    assert titles[0] == "Demons in the Detail: On Implementing Load Balancing Loss for Training Specialized Mixture-of-Expert Models"
    assert titles[-1] == "Vision Matters: Simple Visual Perturbations Can Boost Multimodal Math Reasoning"
    assert all(not p.authors and p.date is None for p in papers.values())


@pytest.mark.parametrize("prefix", ["001", "002", "003", "004"])
def test_page_chrome_never_becomes_a_paper(prefix):
    papers, _ = parse(prefix)
    chrome = {"new", "Get trending papers in your email inbox!", "Subscribe", "Daily Papers",
              "byAK and the research community", "Apr 29", "Sep 9", "Aug 11", "Jun 5", "Education"}
    assert not chrome & set(papers)
    assert all(len(p.abstract) > 200 for p in papers.values())


def test_source_position_is_the_title_line():
    papers, _ = parse("001")
    infi = next(iter(papers.values()))
    lines = FILES["001"].read_text(encoding="utf-8").splitlines()
    assert lines[infi.source.line - 1] == infi.title


def test_author_line_and_date_helpers_reject_prose():
    assert parse_author_line("We study bandits, regret, and more.") is None
    assert parse_author_line("Kim, Kyuyoung, Jeon, Hyunjun, Shin, Jinwoo") == ["Kyuyoung Kim", "Hyunjun Jeon", "Jinwoo Shin"]
    assert parse_date("Jul 8, 2012") == ("Jul 8, 2012", 2012)
    assert parse_date("Feb 3 7") == ("Feb 3", None)
    assert parse_date("Mixture of experts") is None


def test_title_without_abstract_is_reported_not_lost():
    papers, skipped = parse_text("A Lonely Title\n\nAnother Paper Title\n\n" + "We propose a method. " * 20, "x.txt")
    assert [p.title for p in papers] == ["Another Paper Title"]
    assert [(s.title, s.reason) for s in skipped] == [("A Lonely Title", "title without an abstract")]
