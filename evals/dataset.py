"""The gold-set format: one JSON object a line, validated with clear line-numbered errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from common.errors import PapersError

Kind = Literal["lookup", "subfield", "author", "abstain", "followup", "compare", "overview"]
KINDS: tuple[str, ...] = ("lookup", "subfield", "author", "abstain", "followup", "compare", "overview")


class Question(BaseModel):
    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    kind: Kind
    gold_titles: list[str] = Field(default_factory=list)
    acceptable_titles: list[str] = Field(default_factory=list)
    reference_answer: str | None = None
    history: list[str] = Field(default_factory=list)
    draft: bool = False  # generated, not yet reviewed by a person
    split: Literal["dev", "test"] | None = None  # frozen at random before any tuning (evals/split.py); tune on dev only
    facts: list[str] = Field(default_factory=list)  # 1-3 short key facts, verbatim in the gold abstract, a right answer states
    abstain_kind: Literal["generic", "in_domain"] | None = None  # off-topic for any ML corpus, or ML but absent here

    @model_validator(mode="after")
    def _consistent(self) -> "Question":
        if self.kind == "abstain" and self.gold_titles:
            raise ValueError("an abstain question must have no gold_titles")
        if self.kind != "abstain" and not self.gold_titles:
            raise ValueError(f"a {self.kind} question needs at least one gold title")
        if self.kind == "followup" and not self.history:
            raise ValueError("a followup question needs a history (earlier user questions)")
        if self.kind == "compare" and len(self.gold_titles) != 2:
            raise ValueError("a compare question needs exactly two gold titles (the two papers compared)")
        if self.abstain_kind and self.kind != "abstain":
            raise ValueError("abstain_kind is only for abstain questions")
        if len(self.facts) > 3 or any(not f.strip() for f in self.facts):
            raise ValueError("facts holds 1-3 non-empty short strings")
        return self

    @property
    def answerable(self) -> bool:
        return self.kind != "abstain"


def load_dataset(path: Path) -> list[Question]:
    """Every line must be valid; all problems are reported at once, each with its line number."""
    if not path.is_file():
        raise PapersError(f"dataset not found: {path} (pass --dataset with a .jsonl file)")
    questions: list[Question] = []
    problems: list[str] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            q = Question.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"line {lineno}: invalid JSON ({exc.msg})")
            continue
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"]) or "record"
            problems.append(f"line {lineno}: {where}: {err['msg']}")
            continue
        if q.id in seen:
            problems.append(f"line {lineno}: duplicate id {q.id!r}")
            continue
        seen.add(q.id)
        questions.append(q)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise PapersError(f"{path} has {len(problems)} bad line(s): {shown}")
    if not questions:
        raise PapersError(f"{path} holds no questions: add one JSON object per line")
    return questions


def select_split(questions: list[Question], split: str) -> list[Question]:
    """``dev``, ``test`` (the frozen split: report it, never tune on it) or ``all``."""
    if split == "all":
        return questions
    if split not in ("dev", "test"):
        raise PapersError(f"unknown split {split!r}: use dev, test or all")
    return [q for q in questions if q.split == split]


def unknown_titles(questions: list[Question], index_titles: set[str]) -> dict[str, list[str]]:
    """Gold/acceptable titles that are not in the index, by question id (warned about, never silently missed)."""
    out: dict[str, list[str]] = {}
    for q in questions:
        missing = [t for t in q.gold_titles + q.acceptable_titles if t not in index_titles]
        if missing:
            out[q.id] = missing
    return out
