"""Multi-turn chat: condense a follow-up with the history into a standalone question, then answer it.

With the openai backend the condensation uses the LLM and llama-index's condense-question prompt (the
one its condense-plus-context chat engine uses). Offline backends use a rule that needs no model: a
follow-up that refers back ("those", "them", "it", "and ...", "what about ...") is joined with the
previous standalone question. "those/these/them" means the papers on the earlier topic: retrieval is
restricted to the earlier question's wider candidate set (``TOPIC_DEPTH`` papers, not only the few
that were shown), and within it the follow-up's own words do the ranking (repeating the history in
the query would rank the earlier topic above the new constraint). "it" / "this paper" means the papers
the previous answer cited. Either way the user pointed at papers already found relevant, so the answer
does not abstain for lack of relevance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from assistant.answer import Answer, Assistant, AnswerStream, Citation
from assistant.retrieval import Filters

_REFERS_BACK = re.compile(
    r"\b(those|these|them|they|their|it|its|this one|that one|the (?:first|second|third|last) one|above|ones)\b"
    r"|^\s*(and|also|what about|how about|which of|any of|same)\b",
    re.IGNORECASE,
)
_THOSE = re.compile(r"\b(those|these|them|ones)\b", re.IGNORECASE)
_IT = re.compile(r"\b(it|its|this one|that one|the (?:first|second|third|last) one|this paper|that paper)\b", re.IGNORECASE)
TOPIC_DEPTH = 30
SHORT_FOLLOWUP_WORDS = 12  # a long question with "it" in it is more likely a new question than a follow-up


def _by_rule(question: str, previous: Turn) -> str:
    """The offline condensation: a follow-up that refers back is joined with the previous standalone question."""
    if _REFERS_BACK.search(question):
        return f"{question.rstrip('?. ')} — in the context of: {previous.standalone}"
    return question


@dataclass
class Turn:
    question: str
    standalone: str
    answer: Answer


@dataclass
class ChatSession:
    """A conversation; ``ask``/``stream`` take the user's words and return answers like ``assistant.ask``."""

    assistant: Assistant
    backend: str | None = None
    k: int | None = None
    mode: str | None = None
    filters: Filters | None = None
    kind: str | None = None  # auto (None), answer, compare or summary: see assistant.route
    turns: list[Turn] = field(default_factory=list)

    def reset(self) -> None:
        self.turns.clear()

    def condense(self, question: str, backend: str | None = None) -> tuple[str, str, Filters | None]:
        """The standalone question, the query retrieval should see, and any restriction to earlier papers.

        ``backend`` is this turn's backend (a per-question override wins over the session's)."""
        if not self.turns:
            return question, question, self.filters
        previous = self.turns[-1]
        backend = self.assistant.resolve(backend or self.backend)
        standalone = self._condense_with_llm(question) if backend == "openai" else _by_rule(question, previous)
        filters = self.filters
        query = standalone
        answered = not previous.answer.abstained and previous.answer.sources
        if answered and _THOSE.search(question):
            topic = self.assistant.retriever.retrieve_wide(previous.standalone, k=TOPIC_DEPTH, mode=self.mode,
                                                           filters=self.filters)
            ids = frozenset(h.paper_id for h in topic.hits) | {s["paper_id"] for s in previous.answer.sources}
            filters = replace(filters or Filters(), paper_ids=ids)
            query = question
        elif answered and _IT.search(question) and previous.answer.citations and len(question.split()) <= SHORT_FOLLOWUP_WORDS:
            filters = replace(filters or Filters(), paper_ids=frozenset(c.paper_id for c in previous.answer.citations))
            query = question
        return standalone, query, filters

    def restore(self, history: list[tuple[str, str]]) -> None:
        """Rebuild earlier turns from a transcript (e.g. an OpenAI ``messages`` list): pairs of the user's
        words and the reply's text. Standalone questions are re-derived by the offline rule (no LLM call
        per old turn); a reply's cited papers are found by their titles after a ``[n]`` marker, as in the
        Sources list every answer ends with. Replaces any turns the session had."""
        self.turns.clear()
        titles = [(p.title, pid) for pid, p in self.assistant.retriever.papers.items() if p.title]
        for question, reply in history:
            previous = self.turns[-1] if self.turns else None
            standalone = _by_rule(question, previous) if previous else question
            found = sorted((reply.find(f"] {title}"), pid) for title, pid in titles if f"] {title}" in reply)
            papers = [self.assistant.retriever.papers[pid] for _, pid in found]
            citations = [Citation(n=i, title=p.title, authors=p.authors, date=p.date, paper_id=p.paper_id, url=p.url)
                         for i, p in enumerate(papers, start=1)]
            answer = Answer(question=question, answer=reply, abstained=not citations, citations=citations,
                            sources=[{"title": p.title, "paper_id": p.paper_id} for p in papers],
                            backend="history", mode=self.mode or self.assistant.settings.retrieval.mode,
                            standalone_question=standalone)
            self.turns.append(Turn(question=question, standalone=standalone, answer=answer))

    def _condense_with_llm(self, question: str) -> str:
        from llama_index.core.chat_engine.condense_plus_context import DEFAULT_CONDENSE_PROMPT_TEMPLATE

        history = "\n".join(f"user: {t.question}\nassistant: {t.answer.answer}" for t in self.turns[-3:])
        prompt = DEFAULT_CONDENSE_PROMPT_TEMPLATE.format(chat_history=history, question=question)
        text = self.assistant.complete("openai", prompt).strip()
        text = text.splitlines()[0].strip() if text else ""
        # a model that rambles or returns nothing still leaves a usable question
        return text if 3 <= len(text) <= 4 * len(question) + 400 else question

    def stream(self, question: str, **overrides: Any) -> AnswerStream:
        question = self.assistant.check_question(question)
        backend = overrides.get("backend", self.backend)
        standalone, query, filters = self.condense(question, backend)

        def remember(answer: Answer) -> None:
            answer.standalone_question = standalone
            self.turns.append(Turn(question=question, standalone=standalone, answer=answer))

        return self.assistant.stream(
            question, backend=backend, k=overrides.get("k", self.k),
            mode=overrides.get("mode", self.mode), filters=filters, retrieval_query=query, on_done=remember,
            assume_relevant=filters is not None and filters.paper_ids is not None, kind=overrides.get("kind", self.kind),
            breadth=overrides.get("breadth"),
        )

    def ask(self, question: str, **overrides: Any) -> Answer:
        return self.stream(question, **overrides).result()

    def export_markdown(self) -> str:
        """The conversation with its sources, for the UI's export button."""
        from assistant.render import answer_markdown

        return "\n\n".join(f"## {t.question}\n\n{answer_markdown(t.answer)}" for t in self.turns)
