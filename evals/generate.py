"""Draft new gold questions from abstracts with the configured LLM, marked ``draft: true`` until a
person has read the abstract and checked the question (then remove the flag)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from assistant.api import corpus_papers, llm as backend_llm
from common.errors import PapersError
from common.settings import Settings

PROMPT = (
    "Here is the abstract of a research paper.\n\n{abstract}\n\n"
    "Write one question a researcher could ask whose answer is this paper. Paraphrase: do not copy the "
    "title or its distinctive names. Reply with the question only."
)


def draft_questions(n: int, out: Path, backend: str = "openai", seed: int = 0, settings: Settings | None = None) -> int:
    model = backend_llm(backend, settings)
    if model is None:
        raise PapersError("drafting questions needs an LLM: use --backend openai or local")
    papers = corpus_papers(settings)
    random.Random(seed).shuffle(papers)
    written = 0
    with open(out, "w", encoding="utf-8") as fh:
        for i, paper in enumerate(papers[:n], start=1):
            text = str(model.complete(PROMPT.format(abstract=paper.abstract[:3000]))).strip().splitlines()
            question = text[0].strip().strip('"') if text else ""
            if len(question) < 10:
                continue
            fh.write(json.dumps({"id": f"draft-{i:03d}", "question": question, "kind": "lookup",
                                 "gold_titles": [paper.title], "draft": True}, ensure_ascii=False) + "\n")
            written += 1
    return written
