"""Property tests: the parser never crashes and never loses a paper, whatever order or cut the page has."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.parse import parse_text
from tests.conftest import CORPUS

FILES = sorted(CORPUS.glob("*.txt"))


def units(path):
    """The file as (header lines, [paper lines...]) cut at each title line the full parse found."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    papers, _ = parse_text(text, path.name)
    starts = [p.source.line - 1 for p in papers]
    header = lines[: starts[0]]
    bodies = [lines[a:b] for a, b in zip(starts, starts[1:] + [len(lines)])]
    return header, bodies, papers


UNITS = {p.name: units(p) for p in FILES}
COMMON = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(name=st.sampled_from(sorted(UNITS)), data=st.data())
def test_shuffled_papers_are_all_found(name, data):
    header, bodies, papers = UNITS[name]
    order = data.draw(st.permutations(range(len(bodies))))
    text = "\n".join(header + [line for i in order for line in bodies[i]])
    found, skipped = parse_text(text, name)
    assert sorted((p.title, p.abstract) for p in found) == sorted((p.title, p.abstract) for p in papers)
    assert not skipped


@COMMON
@given(name=st.sampled_from(sorted(UNITS)), fraction=st.floats(0, 1))
def test_truncated_page_keeps_every_complete_paper(name, fraction):
    header, bodies, papers = UNITS[name]
    lines = header + [line for body in bodies for line in body]
    text = "\n".join(lines)
    cut = int(len(text) * fraction)
    found, _ = parse_text(text[:cut], name)
    got = {(p.title, p.abstract) for p in found}
    end = len("\n".join(header))
    for body, paper in zip(bodies, papers):
        end += len("\n".join(body)) + 1
        if end <= cut:
            assert (paper.title, paper.abstract) in got


@COMMON
@given(text=st.text(max_size=3000))
def test_arbitrary_text_never_crashes(text):
    found, skipped = parse_text(text, "fuzz.txt")
    assert all(p.title and p.abstract for p in found)
    assert all(s.reason for s in skipped)


@COMMON
@given(lines=st.lists(st.sampled_from(
    ["Subscribe", "·", "• 3 authors", "May 3, 2016", "Short Title", "Kim, Kyuyoung, Shin, Jinwoo",
     "We propose a new method for learning. " * 8, "", "tencent Tencent"]), max_size=60))
def test_footer_and_chrome_fragments_in_any_order_never_crash(lines):
    found, _ = parse_text("\n".join(lines), "frag.txt")
    assert all(len(p.abstract) >= 40 for p in found)
