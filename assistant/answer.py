"""Answering one question: retrieve, abstain or pack sources, generate (or extract), check citations."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

from assistant.citations import check_citations
from common.errors import BackendError, PapersError
from assistant.extractive import SentencePicker
from assistant.llm import answer_tokens, context_window, explain, make_llm, resolve_backend
from assistant.prompts import PackedContext, build_messages, pack
from assistant.retrieval import Filters, PaperHit, Retriever
from common.settings import Settings
from ingest.chunk import count_tokens

ABSTAIN_TEXT = "The corpus does not cover this: no paper abstract in it is relevant enough to answer the question."


@dataclass
class Citation:
    n: int
    title: str
    authors: list[str]
    date: str | None
    paper_id: str
    abstract: str = ""


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    sources: list[dict[str, Any]]
    backend: str
    mode: str
    usage: dict[str, int] = field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})
    timings_ms: dict[str, float] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    removed_citations: int = 0
    dropped_sentences: list[str] = field(default_factory=list)
    standalone_question: str | None = None
    relevance: float = 0.0  # best dense cosine similarity among the sources
    coverage: float = 0.0  # IDF-weighted share of question words found in the best source

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for c in data["citations"]:
            c.pop("abstract", None)
        return data


class ResultStream:
    """Iterate for text deltas as they are produced; the final result object arrives last.

    Steps are strings (deltas) and one result of ``result_type``. For answers, the streamed text is the
    model's raw output and the final ``answer.answer`` is what survived citation checking, so a UI
    should replace the streamed text with it when the stream ends.
    """

    result_type: type = object

    def __init__(self, steps: Iterator[Any], on_done: Callable[[Any], None] | None = None) -> None:
        self._steps = steps
        self._on_done = on_done
        self.value: Any = None

    def __iter__(self) -> Iterator[str]:
        for step in self._steps:
            if isinstance(step, str):
                yield step
                continue
            self.value = step
            if self._on_done:
                self._on_done(step)

    def close(self) -> None:
        """Stop early: closes a running generation (its server connection, or the local model's turn)."""
        close = getattr(self._steps, "close", None)
        if close is not None:
            close()

    def result(self) -> Any:
        for _ in self:
            pass
        assert self.value is not None
        return self.value


class AnswerStream(ResultStream):
    @property
    def answer(self) -> Answer | None:
        return self.value


class Assistant:
    """Holds the loaded index and models; one per process (the UI caches it with st.cache_resource).

    Thread-safe: one instance serves concurrent requests (``papers serve``). The in-process local model
    is not re-entrant, so its generations take turns."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.retriever = Retriever(settings)
        self.picker = SentencePicker([p.abstract for p in self.retriever.papers.values()])
        self._llms: dict[str, Any] = {}
        self._llm_lock = threading.Lock()
        self._local_lock = threading.Lock()

    def llm(self, backend: str) -> Any:
        with self._llm_lock:
            if backend not in self._llms:
                self._llms[backend] = make_llm(self.settings, backend)
            return self._llms[backend]

    def resolve(self, backend: str | None) -> str:
        return resolve_backend(self.settings, backend)

    def check_question(self, question: str) -> str:
        question = (question or "").strip()
        limit = self.settings.answer.max_question_chars
        if not question:
            raise PapersError("the question is empty: type a few words about what you want to know")
        if len(question) > limit:
            raise PapersError(f"the question is {len(question)} characters long; keep it under {limit} (PAPERS_MAX_QUESTION_CHARS)")
        return question

    def stream(self, question: str, *, backend: str | None = None, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None, retrieval_query: str | None = None,
               on_done: Callable[[Answer], None] | None = None, assume_relevant: bool = False) -> AnswerStream:
        """Answer ``question``; ``retrieval_query`` (a condensed follow-up) is what retrieval sees, if given.

        ``assume_relevant`` skips abstention when the user pointed at papers already found relevant
        (a follow-up about "those" or "it"); an empty result still abstains.
        """
        question = self.check_question(question)
        backend = resolve_backend(self.settings, backend)
        steps = self._run(question, backend, k, mode, filters, retrieval_query or question, assume_relevant)
        return AnswerStream(steps, on_done)

    def ask(self, question: str, **kwargs: Any) -> Answer:
        return self.stream(question, **kwargs).result()

    def _run(self, question: str, backend: str, k: int | None, mode: str | None, filters: Filters | None,
             query: str, assume_relevant: bool = False) -> Iterator[str | Answer]:
        t0 = time.perf_counter()
        result = self.retriever.retrieve(query, k=k, mode=mode, filters=filters)
        t_retrieve = (time.perf_counter() - t0) * 1000
        coverage = self.picker.coverage(query, [f"{h.paper.title} {' '.join(h.texts)}" for h in result.hits])
        base = dict(question=question, backend=backend, mode=result.mode, relevance=round(result.best_dense, 4),
                    coverage=round(coverage, 4))
        sources = [_source(h) for h in result.hits]
        if self.should_abstain(result.hits, result.best_dense, coverage, result.author_matched or assume_relevant):
            yield ABSTAIN_TEXT
            yield Answer(answer=ABSTAIN_TEXT, abstained=True, citations=[], sources=sources,
                         timings_ms={"retrieve": t_retrieve, "generate": 0.0, "total": (time.perf_counter() - t0) * 1000}, **base)
            return
        window = context_window(self.settings, backend)
        packed = pack(question, result.hits, window, answer_tokens(self.settings, backend))
        t1 = time.perf_counter()
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        notices = list(packed.notices)
        if backend == "extractive":
            raw = self._extract(question, packed)
            yield raw
        else:
            system, user = build_messages(question, packed)
            usage["prompt_tokens"] = count_tokens(system) + count_tokens(user)
            raw = ""
            for delta in self._generate(backend, system, user):
                raw += delta
                yield delta
            usage["completion_tokens"] = count_tokens(raw)
        checked = check_citations(raw, packed.texts, self.settings.answer.min_support)
        if not checked.text:
            notices.append("the model's answer had no sentence the sources support; showing quoted sentences instead")
            checked = check_citations(self._extract(question, packed), packed.texts, self.settings.answer.min_support)
        if checked.removed_citations:
            notices.append(f"{checked.removed_citations} citation(s) to papers outside the retrieved sources were removed")
        if checked.dropped_sentences:
            notices.append(f"{len(checked.dropped_sentences)} sentence(s) no source supports were dropped")
        citations = [_citation(n, packed.hits[n - 1]) for n in checked.cited]
        t_gen = (time.perf_counter() - t1) * 1000
        yield Answer(answer=checked.text, abstained=False, citations=citations, sources=[_source(h) for h in packed.hits],
                     usage=usage, notices=notices, removed_citations=checked.removed_citations,
                     dropped_sentences=checked.dropped_sentences,
                     timings_ms={"retrieve": t_retrieve, "generate": t_gen, "total": (time.perf_counter() - t0) * 1000}, **base)

    def _extract(self, question: str, packed: PackedContext) -> str:
        return self.picker.compose(question, packed.texts, self.settings.answer.extractive_sources,
                                   dense=[h.dense for h in packed.hits], dense_floor=self.settings.retrieval.min_relevance)

    def should_abstain(self, hits: list[PaperHit], dense: float, coverage: float, author_matched: bool) -> bool:
        """Nothing relevant enough: neither embedding similarity nor keyword coverage reaches its calibrated bar."""
        cfg = self.settings.retrieval
        if not hits:
            return True
        return not author_matched and dense < cfg.min_relevance and coverage < cfg.min_coverage

    @staticmethod
    def _messages(system: str | None, user: str) -> list[Any]:
        from llama_index.core.llms import ChatMessage

        head = [ChatMessage(role="system", content=system)] if system else []
        return head + [ChatMessage(role="user", content=user)]

    def _turn(self, backend: str) -> Any:
        """The local model serves one generation at a time; remote servers do their own queueing."""
        return self._local_lock if backend == "local" else contextlib.nullcontext()

    def complete(self, backend: str, user: str, system: str | None = None) -> str:
        """One non-streaming LLM reply (summaries' map step, follow-up condensation), errors in plain words."""
        try:
            with self._turn(backend):
                return str(self.llm(backend).chat(self._messages(system, user)).message.content or "")
        except PapersError:
            raise
        except Exception as exc:
            raise explain(exc, self.settings) from None

    def _generate(self, backend: str, system: str, user: str) -> Iterator[str]:
        messages = self._messages(system, user)
        llm = self.llm(backend)
        produced = False
        try:
            with self._turn(backend):
                for chunk in llm.stream_chat(messages):
                    if chunk.delta:
                        produced = True
                        yield chunk.delta
        except PapersError:
            raise
        except Exception as exc:
            raise explain(exc, self.settings) from None
        if not produced:
            where = "the local model" if backend == "local" else f"the LLM server at {self.settings.llm.openai_base_url or 'api.openai.com'}"
            raise BackendError(f"{where} returned no answer text (an empty or unparseable response); check the server and model")


def _source(hit: PaperHit) -> dict[str, Any]:
    return {"title": hit.paper.title, "score": round(hit.score, 4), "dense": None if hit.dense is None else round(hit.dense, 4),
            "paper_id": hit.paper_id, "authors": hit.paper.authors, "date": hit.paper.date, "author_match": hit.author_match}


def _citation(n: int, hit: PaperHit) -> Citation:
    p = hit.paper
    return Citation(n=n, title=p.title, authors=p.authors, date=p.date, paper_id=hit.paper_id, abstract=p.abstract)
