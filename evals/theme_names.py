"""How good are the summaries' theme names? Distinctive, representative, whole, distinct.

``python -m evals.theme_names --dataset evals/datasets/overview.jsonl --split dev`` summarizes every
``subfield`` question (and every ``overview`` question the chat routes to a summary, as in ``hard.jsonl``)
with the extractive backend and scores each theme name:

- **generic**: the name's phrase (word stems in sequence, so plurals match) occurs in more than
  ``GENERIC_SHARE`` (5%) of all the corpus's papers (title + abstract): "neural networks", "large language
  models", "reward model" say nothing about one theme of this corpus;
- **vague**: even the name's rarest content word (stemmed; a hyphenated compound is one word) occurs in more
  than ``VAGUE_SHARE`` (10%) of the corpus's papers ("reasoning tasks", "diverse task", "reward function"):
  no word of it narrows the theme down;
- **coverage**: for themes of two or more papers, the share of the theme's papers whose title + abstract hold
  every content word of the name (stemmed, any order): a phrase from one paper's title covers one paper;
  ``covered_half`` is the share of such themes whose name at least half their papers hold;
- **fragment**: not a whole noun phrase: a name that ends in a word that is only an adjective or adverb
  (lemminflect's English lexicon: "Graph neural", "Learning theoretic") or in a function word, i.e. cut
  inside a noun phrase, or that holds an article or demonstrative, i.e. a clause ("Highlights the importance");
- **duplicate**: two themes of one summary whose names' content-word stems are one a subset of the other
  ("Large reasoning models" / "Reasoning models"); counted per summary of two or more themes;
- **topic echo**: in a summary of two or more themes, a name whose content words are all the topic's (it
  tells nothing beyond the heading; a one-theme summary may carry the topic's name);
- **in papers**: the eval's existing check (the name occurs as a phrase in its papers' texts).

It also records the papers each summary covers, so two runs can be checked to cover the same papers
(``--out FILE`` writes every summary's names, scores and covered titles as JSON).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

GENERIC_SHARE = 0.05
VAGUE_SHARE = 0.10
_WORD = re.compile(r"[a-z0-9][\w-]*")
_FUNCTION = frozenset("a an the of for in on to with by from and or via as at into over under than per between "
                      "without within across towards toward through is are be can may".split())


def stems(text: str) -> list[str]:
    from assistant.text import stem

    return [stem(w) for w in _WORD.findall(text.lower())]


def _contains(seq: list[str], sub: list[str]) -> bool:
    n = len(sub)
    return n > 0 and any(seq[i:i + n] == sub for i in range(len(seq) - n + 1))


class Corpus:
    """Per corpus paper, its stemmed title + abstract, for the phrase's document frequency."""

    def __init__(self, papers: list[Any]) -> None:
        self.docs = [stems(f"{p.title}. {p.abstract}") for p in papers]
        self._joined = [" " + " ".join(d) + " " for d in self.docs]
        self._words = [set(d) for d in self.docs]
        self._df: dict[str, float] = {}

    def share(self, name: str) -> float:
        """Share of the corpus's papers whose text holds the name's stems in sequence."""
        if name not in self._df:
            key = " " + " ".join(stems(name)) + " "
            self._df[name] = sum(1 for d in self._joined if key in d) / max(len(self.docs), 1)
        return self._df[name]

    def rarest_word_share(self, name: str) -> float:
        """Share of the corpus's papers holding the name's rarest content word (0 when it has none)."""
        from assistant.text import STOPWORDS

        words = [w for w in stems(name) if w not in STOPWORDS and w not in _FUNCTION]
        if not words:
            return 0.0
        return min(sum(1 for d in self._words if w in d) for w in words) / max(len(self.docs), 1)


@lru_cache(maxsize=4096)
def _categories(word: str) -> frozenset[str]:
    import lemminflect

    return frozenset(lemminflect.getAllLemmas(word))


_ARTICLE = frozenset("the a an this that these those".split())


def is_fragment(name: str) -> bool:
    """Ends in a function word or in a word that English uses only as an adjective or adverb, or holds an
    article or demonstrative (a clause)."""
    words = name.split()
    if any(w.lower() in _ARTICLE for w in words):
        return True
    last = words[-1].strip(".,;:()")
    low = last.lower()
    if low in _FUNCTION:
        return True
    if any(c.isdigit() for c in last) or any(c.isupper() for c in last[1:]) or "-" in last:
        return False  # a name, a version or a compound ("GPT-4", "LoRA", "fine-tuning")
    cats = _categories(low)
    return bool(cats) and cats <= {"ADJ", "ADV"}


def content_stems(text: str) -> set[str]:
    from assistant.text import content_words

    return content_words(text)


def name_scores(topic: str, themes: list[tuple[str, list[str]]], corpus: Corpus) -> list[dict[str, Any]]:
    """Per theme (name, its papers' 'title. abstract' texts): the checks of the module docstring."""
    from assistant.themes import name_in_papers

    words = [content_stems(n) for n, _ in themes]
    topic_words = content_stems(topic)
    out = []
    for i, (name, texts) in enumerate(themes):
        covered = [words[i] <= content_stems(t) for t in texts] if len(texts) > 1 else []
        dup = any(j != i and words[i] and words[j] and (words[i] <= words[j] or words[j] <= words[i])
                  for j in range(len(themes)))
        out.append({"name": name, "papers": len(texts), "corpus_share": round(corpus.share(name), 4),
                    "generic": corpus.share(name) > GENERIC_SHARE,
                    "vague": corpus.rarest_word_share(name) > VAGUE_SHARE,
                    "coverage": sum(covered) / len(covered) if covered else None,
                    "fragment": is_fragment(name), "duplicate": dup,
                    "topic_echo": len(themes) > 1 and bool(words[i]) and words[i] <= topic_words,
                    "in_papers": name_in_papers(name, texts)})
    return out


def summary_themes(summary: Any) -> list[tuple[str, list[str]]]:
    texts = {c.n: f"{c.title}. {c.abstract}" for c in summary.citations}
    return [(t.name, [texts[i.n] for i in t.items if i.n in texts]) for t in summary.themes]


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    themes = [t for r in rows for t in r["themes"]]
    multi = [t for t in themes if t["coverage"] is not None]
    many = [r for r in rows if len(r["themes"]) > 1]

    def share(items: list[Any], pred: Any) -> float | None:
        return round(sum(1 for x in items if pred(x)) / len(items), 3) if items else None

    return {
        "summaries": len(rows), "themes": len(themes), "multi_paper_themes": len(multi),
        "generic": share(themes, lambda t: t["generic"]),
        "vague": share(themes, lambda t: t["vague"]),
        "coverage": round(statistics.mean(t["coverage"] for t in multi), 3) if multi else None,
        "covered_half": share(multi, lambda t: t["coverage"] >= 0.5),
        "fragment": share(themes, lambda t: t["fragment"]),
        "duplicate_summaries": share(many, lambda r: any(t["duplicate"] for t in r["themes"])),
        "topic_echo": share([t for r in many for t in r["themes"]], lambda t: t["topic_echo"]),
        "in_papers": share(themes, lambda t: t["in_papers"]),
        "latency_p50_ms": round(statistics.median(r["latency_ms"] for r in rows), 1) if rows else None,
    }


def _summary_for(q: Any, settings: Any) -> Any:
    import assistant
    from evals.run import answer_question

    if q.kind == "subfield":
        return assistant.summarize(q.question, settings=settings, backend="extractive")
    return getattr(answer_question(q, settings, "extractive"), "summary", None)


def run(dataset: Path, split: str, settings: Any = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from assistant.api import corpus_papers
    from evals.dataset import load_dataset, select_split

    questions = [q for q in select_split(load_dataset(dataset), split) if q.kind in ("subfield", "overview")]
    corpus = Corpus(corpus_papers(settings))
    rows = []
    for q in questions:
        started = time.perf_counter()
        summary = _summary_for(q, settings)
        latency = (time.perf_counter() - started) * 1000
        if summary is None or summary.abstained:
            continue
        rows.append({"id": q.id, "topic": q.question, "latency_ms": latency,
                     "covered": sorted(c.title for c in summary.citations + summary.also_relevant),
                     "themes": name_scores(q.question, summary_themes(summary), corpus)})
    return aggregate(rows), rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--split", default="dev", choices=("dev", "test", "all"))
    parser.add_argument("--out", type=Path, help="write every summary's names, scores and covered papers as JSON")
    parser.add_argument("--show", action="store_true", help="print every summary's theme names and their flags")
    args = parser.parse_args(argv)
    totals, rows = run(args.dataset, args.split)
    if args.show:
        for r in rows:
            flags = [t["name"] + "".join(f" [{k}]" for k in ("generic", "vague", "fragment", "duplicate", "topic_echo") if t[k])
                     + ("" if t["coverage"] is None else f" ({t['coverage']:.2f} of {t['papers']})") for t in r["themes"]]
            print(f"{r['id']}: {r['topic'][:60]}\n    " + " | ".join(flags))
    if args.out:
        args.out.write_text(json.dumps({"totals": totals, "rows": rows}, indent=1))
    print(json.dumps(totals, indent=1))


if __name__ == "__main__":
    main()
