"""Evidence first, as PaperQA2 does: before an LLM answer is written, the LLM rates each source.

For every packed source the model is asked, in a short prompt a 135M model can follow, for a relevance
score from 0 to 10 and the sentence of the source that answers the question. Sources rated below
``PAPERS_EVIDENCE_MIN_SCORE`` are dropped before the answer is written; the rest are ordered by score.
Nothing left means the answer abstains.

Models return junk. A reply is parsed leniently ("Score: 7", "7/10", "**8**", "Relevance - 6.5"); a reply
with no score from 0 to 10 (or an error from the server) falls back to the retrieval judgement: the
source stays when retrieval judged it relevant (``judgement`` of the source, default relevant) and
leaves when it was judged irrelevant. The extracted passage must be a sentence of the source (matched by
word overlap); otherwise the source's best sentence for the question (``assistant.extractive``) stands
in. Nothing here raises on bad model output.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable

from assistant.text import content_words, split_sentences
from common.errors import PapersError

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.prompts import PackedContext

# Short, text first: SmolLM2-135M follows this form better than a question-first prompt with a reply
# template (measured: with a template it answered "does not answer" for most papers that do).
PROMPT = ("Text: {text}\n\nQuestion: {question}\n\nIs the text about the question? Reply with a score from 0 (no) "
          "to 10 (yes) and the sentence of the text that answers it.")
MAX_TEXT_CHARS = 900  # per source: the answer of an abstract is in its sentences, not its length
_SCORE = re.compile(r"(?:score|rating|relevance|answer is)\W{0,4}(\d+(?:\.\d+)?)(?:\s*/\s*10)?|^\W*(\d+(?:\.\d+)?)\s*(?:/\s*10)?\b",
                    re.IGNORECASE | re.MULTILINE)
_PASSAGE = re.compile(r"(?:sentence|passage|quote|evidence)\s*:\s*(.+)", re.IGNORECASE | re.DOTALL)
# a reply with no number but a plain verdict still says something: small models often answer in words
_NO = re.compile(r"^\W*no\b|\b(?:not|n't|never|cannot|unrelated|irrelevant)\b[^.]{0,40}?\b(?:answer|answers|relevant|"
                 r"related|information|address|addresses|mention|mentions|contain|contains|discuss|discusses|explain|"
                 r"about)\b|\bunrelated\b|\birrelevant\b", re.IGNORECASE)
_YES = re.compile(r"^\W*yes\b|\b(?:answers|provides|explains|describes|addresses|discusses|is relevant|directly|shows|"
                  r"is about)\b", re.IGNORECASE)
VERDICT_SCORES = (1.0, 7.0)  # what a plain "does not answer" / "answers" verdict counts as
PASSAGE_MATCH = 0.6  # share of a copied sentence's words a source sentence must hold to count as the passage


@dataclass
class Evidence:
    n: int  # the source's number in the packed context
    score: float | None  # the model's 0-10 rating; None when the reply had none
    passage: str  # the source sentence that answers, verbatim
    kept: bool
    reason: str  # why it was kept or dropped, for notices and the UI

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_score(reply: str) -> tuple[float | None, str]:
    """The 0-10 rating in a model reply and how it was read: a number ("Score: 7", "7/10"), else a plain
    verdict in words ("The text does not answer the question" -> 1), else (None, "none")."""
    for m in _SCORE.finditer(reply or ""):
        value = float(m.group(1) or m.group(2))
        return (value, "number") if 0 <= value <= 10 else (None, "none")
    head = (reply or "").split("\n", 1)[0]
    if _NO.search(head):
        return VERDICT_SCORES[0], "verdict"
    if _YES.search(head):
        return VERDICT_SCORES[1], "verdict"
    return None, "none"


def match_passage(reply: str, text: str) -> str | None:
    """The sentence of ``text`` the reply copied (best word overlap), or None if it copied nothing of it."""
    m = _PASSAGE.search(reply or "")
    copied = content_words(m.group(1) if m else reply or "")
    if not copied:
        return None
    sentences = split_sentences(text)
    scored = [(len(copied & content_words(s)) / len(copied), s) for s in sentences if len(s) > 30]
    share, best = max(scored, default=(0.0, ""))
    return best if share >= PASSAGE_MATCH else None


def rate(ask: Callable[[str], str], question: str, n: int, text: str, fallback_relevant: bool, min_score: float,
         best_sentence: Callable[[str, str], str | None]) -> Evidence:
    """One source's evidence from one model call; any failure falls back to the retrieval judgement."""
    try:
        reply, error = ask(PROMPT.format(question=question, text=text[:MAX_TEXT_CHARS])), ""
    except PapersError:
        raise  # the server itself is down or misconfigured: the user must hear it, not a silent fallback
    except Exception as exc:  # noqa: BLE001 - a reply the client cannot handle must not lose the answer
        reply, error = "", type(exc).__name__
    reply = reply if isinstance(reply, str) else ""
    score, how = parse_score(reply)
    passage = match_passage(reply, text) or best_sentence(question, text) or ""
    if score is None:
        why = f"the model's rating failed ({error})" if error else "the model gave no usable rating"
        judged = "relevant" if fallback_relevant else "irrelevant"
        return Evidence(n, None, passage, fallback_relevant, f"{why}; kept the retrieval judgement ({judged})")
    kept = score >= min_score
    said = f"rated {score:g}/10" if how == "number" else f"judged {'relevant' if kept else 'not relevant'} in words"
    return Evidence(n, score, passage, kept, said + ("" if kept else f", below {min_score:g}"))


def gather_evidence(assistant: Assistant, backend: str, question: str, texts: list[str],
                    relevant: list[bool]) -> list[Evidence]:
    """Rate every source (``texts[i]`` is source i+1; ``relevant[i]`` is retrieval's judgement of it)."""
    cfg = assistant.settings.evidence
    return [rate(lambda prompt: assistant.complete(backend, prompt), question, n, text, ok, cfg.evidence_min_score,
                 assistant.picker.best_sentence)
            for n, (text, ok) in enumerate(zip(texts, relevant), start=1)]


def filter_packed(assistant: Assistant, backend: str, question: str, packed: PackedContext,
                  judgements: dict[str, str]) -> tuple[PackedContext, list[Evidence]]:
    """The packed sources the model rated at or above the bar, best first (possibly none), and the
    evidence for every source in the original numbering. ``judgements`` maps paper_id to retrieval's
    judgement (``relevant``/``loose``/``irrelevant``; missing means relevant)."""
    from assistant.prompts import PackedContext

    relevant = [judgements.get(h.paper_id, "relevant") != "irrelevant" for h in packed.hits]
    evidence = gather_evidence(assistant, backend, question, packed.texts, relevant)
    order = sorted((e for e in evidence if e.kept), key=lambda e: (-(e.score if e.score is not None else -1), e.n))
    kept = PackedContext(hits=[packed.hits[e.n - 1] for e in order], texts=[packed.texts[e.n - 1] for e in order],
                         dropped=packed.dropped, truncated=packed.truncated, redacted=packed.redacted,
                         notices=list(packed.notices))
    dropped = [e for e in evidence if not e.kept]
    if dropped:
        titles = "; ".join(packed.hits[e.n - 1].paper.title for e in dropped)
        kept.notices.append(f"{len(dropped)} source(s) the model judged not to answer the question were left out: {titles}")
    return kept, evidence
