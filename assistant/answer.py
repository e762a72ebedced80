"""Answering one question: retrieve, abstain or pack sources, generate (or extract), check citations."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

from assistant.answerability import LOOSE, RELEVANT, AnswerabilityModel, question_problem
from assistant.late_interaction import LateInteraction
from assistant.citations import check_citations
from common.errors import BackendError, PapersError
from assistant.extractive import SentencePicker
from assistant.gaps import GapFinder, gap_notice
from assistant.llm import answer_tokens, context_window, explain, make_llm, resolve_backend
from assistant.prompts import PackedContext, build_messages, pack, withhold_from_answer
from assistant.retrieval import Filters, PaperHit, Retriever
from assistant.text import check_question
from common.settings import Settings
from ingest.tokens import count_tokens

ABSTAIN_TEXT = "The corpus does not cover this: no paper abstract in it is relevant enough to answer the question."
NOT_COVERED_TEXT = "Not directly covered: no paper in the corpus addresses this question directly. The closest papers are: {titles}."


@dataclass
class Citation:
    n: int
    title: str
    authors: list[str]
    date: str | None
    paper_id: str
    abstract: str = ""
    url: str | None = None  # the paper's link (arXiv, DOI or the record's url) when the corpus gives one


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
    status: str = "answered"  # answered | abstained | not_covered ("abstained" is true for both non-answers)
    kind: str = "answer"  # answer | compare | summary (assistant.route)
    comparison: list[dict[str, Any]] = field(default_factory=list)  # compare: rows {n, title, problem, method, result}
    summary: Any = None  # summary: the assistant.summary.Summary behind the answer
    # the question's specific terms no cited paper mentions (answered), or no paper of the collection (abstained);
    # [] for summaries, follow-ups resolved from history and author questions (assistant.gaps)
    missing_terms: list[str] = field(default_factory=list)

    @property
    def gap(self) -> str | None:
        """The gap notice ``missing_terms`` gives (it is also among ``notices``), for renderers that show it apart."""
        return gap_notice(self.missing_terms, answered=not self.abstained) if self.missing_terms else None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for c in data["citations"] + ((data["summary"] or {}).get("citations") or []) + ((data["summary"] or {}).get("also_relevant") or []):
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
        abstracts, titles = [], []
        for p in self.retriever.papers.values():
            abstracts.append(p.abstract)
            titles.append(p.title)
        self.picker = SentencePicker(abstracts)
        self.gaps = GapFinder(self.picker, titles, settings.answer.gap_max_share)
        self.answerability = AnswerabilityModel(self.picker, settings.answer.answerability_model,
                                                settings.answer.answerability_threshold,
                                                LateInteraction(self.picker, self.word_encoder))
        self._llms: dict[str, Any] = {}
        self._llm_lock = threading.Lock()
        self._local_lock = threading.Lock()

    def word_encoder(self) -> Any:
        """The MiniLM model for late-interaction evidence: the question encoder itself with the default ONNX
        embedder, otherwise loaded once (the answerability model was fitted on its word vectors)."""
        if hasattr(self.retriever.encoder, "words_and_vectors"):
            return self.retriever.encoder
        from ingest.embed import onnx_model

        return onnx_model()

    def llm(self, backend: str) -> Any:
        with self._llm_lock:
            if backend not in self._llms:
                self._llms[backend] = make_llm(self.settings, backend)
            return self._llms[backend]

    def resolve(self, backend: str | None) -> str:
        return resolve_backend(self.settings, backend)

    def check_question(self, question: str) -> str:
        return check_question(question, self.settings.answer.max_question_chars)

    def stream(self, question: str, *, backend: str | None = None, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None, retrieval_query: str | None = None,
               on_done: Callable[[Answer], None] | None = None, assume_relevant: bool = False,
               kind: str | None = None, breadth: str | None = None) -> AnswerStream:
        """Answer ``question``; ``retrieval_query`` (a condensed follow-up) is what retrieval sees, if given.

        ``assume_relevant`` skips abstention when the user pointed at papers already found relevant
        (a follow-up about "those" or "it"); an empty result still abstains. ``kind`` forces the kind of
        answer (``answer``, ``compare``, ``summary``); None or ``auto`` detects it (``assistant.route``);
        ``breadth`` (narrow, normal, wide) applies when the answer is a summary.
        """
        from assistant.route import resolve_kind, summary_steps

        question = self.check_question(question)
        backend = resolve_backend(self.settings, backend)
        kind = resolve_kind(question, kind)
        if kind == "summary" and not self.retriever.authors_in(question):  # "show me the work by X" is a lookup
            return AnswerStream(summary_steps(self, question, retrieval_query or question, backend, breadth), on_done)
        steps = self._run(question, backend, k, mode, filters, retrieval_query or question, assume_relevant, kind)
        return AnswerStream(steps, on_done)

    def ask(self, question: str, **kwargs: Any) -> Answer:
        return self.stream(question, **kwargs).result()

    def _run(self, question: str, backend: str, k: int | None, mode: str | None, filters: Filters | None,
             query: str, assume_relevant: bool = False, kind: str = "answer") -> Iterator[str | Answer]:
        from assistant.compare import comparison_rows, pick_pair, rows_text

        t0 = time.perf_counter()
        problem = None if self.retriever.authors_in(query) else question_problem(query, self.picker)
        if problem:  # stop-words only, punctuation, another language: say so, never quote at random
            yield problem
            yield Answer(question=question, answer=problem, abstained=True, citations=[], sources=[], backend=backend,
                         mode=mode or self.settings.retrieval.mode, status="abstained", notices=[problem])
            return
        pair = pick_pair(self, query, k, mode, filters) if kind == "compare" else None
        kind = "compare" if pair is not None else "answer"
        result, sides = pair or (self.retriever.retrieve(query, k=k, mode=mode, filters=filters), [])
        t_retrieve = (time.perf_counter() - t0) * 1000
        coverage = self.picker.coverage(query, [f"{h.paper.title} {' '.join(h.texts)}" for h in result.hits])
        base = dict(question=question, backend=backend, mode=result.mode, relevance=round(result.best_dense, 4),
                    coverage=round(coverage, 4), kind=kind)
        judged = self.judge(query, result.hits, result.author_matched or assume_relevant, sides)
        # what the papers lack is said only of the question as typed: not of a follow-up resolved from history
        gaps = self.gaps if query == question and not (result.author_matched or assume_relevant) else None
        if gaps and self.settings.answer.unknown_names and gaps.unknown_names(question):
            # the question names something no paper mentions ("as in QLoRA"): no paper answers it directly
            judged = [(h, (LOOSE, j[1]) if j[0] == RELEVANT else j) for h, j in judged]
        status = self.decide(judged)
        sources = [_source(h, j) for h, j in judged]
        if status != "answered":
            text = ABSTAIN_TEXT if status == "abstained" else NOT_COVERED_TEXT.format(
                titles="; ".join(f'"{h.paper.title}"' for h, j in judged if j[0] == LOOSE))
            missing = gaps.unknown(question) if gaps else []
            yield text
            yield Answer(answer=text, abstained=True, citations=[], sources=sources, status=status, missing_terms=missing,
                         notices=[gap_notice(missing, answered=False)] if missing else [],
                         timings_ms={"retrieve": t_retrieve, "generate": 0.0, "total": (time.perf_counter() - t0) * 1000}, **base)
            return
        # an irrelevant source is never quoted or cited; a loosely related one only as a comparison's second side
        # (an answer quotes the relevant sources; the loose ones follow them in `sources`, marked, unnumbered)
        usable = [h for h, j in judged if j[0] == RELEVANT or (j[0] == LOOSE and kind == "compare")]
        window = context_window(self.settings, backend)
        packed = pack(question, usable, window, answer_tokens(self.settings, backend))
        t1 = time.perf_counter()
        evidence: dict[str, dict[str, Any]] = {}
        if backend != "extractive" and self.settings.evidence.evidence and kind != "compare":
            from assistant.evidence import filter_packed

            rated = packed.hits
            packed, found = filter_packed(self, backend, question, packed, {s["paper_id"]: s.get("judgement", "relevant") for s in sources})
            evidence = {rated[e.n - 1].paper_id: e.as_dict() for e in found}
            if not packed.hits:
                text = ABSTAIN_TEXT + " (the model judged none of the retrieved papers to answer it)"
                yield text
                yield Answer(answer=text, abstained=True, status="abstained", citations=[], sources=[dict(s, evidence=evidence.get(s["paper_id"])) for s in sources],
                             notices=packed.notices, timings_ms={"retrieve": t_retrieve, "generate": (time.perf_counter() - t1) * 1000,
                                                                 "total": (time.perf_counter() - t0) * 1000}, **base)
                return
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        notices = list(packed.notices)
        rows = comparison_rows(self, question, packed.hits, packed.texts, backend) if kind == "compare" else []
        if kind == "compare" and len(rows) == 1:  # say so, rather than let one paper pass for a comparison
            unmatched = [d for (d, _), h in zip(sides, result.hits) if h.paper.title != rows[0]["title"]]
            notices.append("only one of the two works was found in the collection" + (
                f': no paper matched "{unmatched[0]}"' if len(unmatched) == 1 else ""))
        if backend == "extractive":
            raw = rows_text(rows) if rows else self._extract(question, packed)
            yield raw
        else:
            system, user = build_messages(question, packed, kind)
            usage["prompt_tokens"] = count_tokens(system) + count_tokens(user)
            raw = ""
            for delta in self._generate(backend, system, user):
                raw += delta
                yield delta
            usage["completion_tokens"] = count_tokens(raw)
        raw, leaked = withhold_from_answer(raw)  # the guard: nothing instruction-like is ever shown
        if leaked:
            notices.append(f"{leaked} instruction-like sentence(s) were withheld from the answer")
        # a quote is verbatim; generated sentences must add something to the question that a source backs
        checked = check_citations(raw, packed.texts, self.settings.answer.min_support,
                                  question=None if backend == "extractive" else question)
        if not checked.text:
            notices.append("the model's answer had no sentence the sources support; showing quoted sentences instead")
            checked = check_citations(self._extract(question, packed), packed.texts, self.settings.answer.min_support)
        if not checked.text:  # everything relevant was withheld or unsupported: abstain, never answer ""
            notices.append("nothing in the relevant sources could be quoted (instruction-like text is withheld)")
            yield Answer(answer=ABSTAIN_TEXT, abstained=True, status="abstained", citations=[], sources=sources, notices=notices,
                         timings_ms={"retrieve": t_retrieve, "generate": 0.0, "total": (time.perf_counter() - t0) * 1000}, **base)
            return
        if checked.removed_citations:
            notices.append(f"{checked.removed_citations} citation(s) to papers outside the retrieved sources were removed")
        if checked.dropped_sentences:
            notices.append(f"{len(checked.dropped_sentences)} sentence(s) no source supports were dropped")
        citations = [_citation(n, packed.hits[n - 1]) for n in checked.cited]
        missing = gaps.missing(question, [(c.title, c.abstract) for c in citations]) if gaps else []
        if missing:
            notices.insert(0, gap_notice(missing, answered=True))
        t_gen = (time.perf_counter() - t1) * 1000
        marks = {h.paper_id: j for h, j in judged}  # the packed sources, numbered [n], then the unquoted loose ones
        numbered = {h.paper_id for h in packed.hits}
        yield Answer(answer=checked.text, abstained=False, citations=citations,
                     sources=[dict(_source(h, marks[h.paper_id]), **({"evidence": evidence[h.paper_id]} if h.paper_id in evidence else {}))
                              for h in packed.hits] + [s for s in sources if s["judgement"] == LOOSE and s["paper_id"] not in numbered],
                     usage=usage, notices=notices, removed_citations=checked.removed_citations,
                     dropped_sentences=checked.dropped_sentences, comparison=rows, missing_terms=missing,
                     timings_ms={"retrieve": t_retrieve, "generate": t_gen, "total": (time.perf_counter() - t0) * 1000}, **base)

    def _extract(self, question: str, packed: PackedContext) -> str:
        return self.picker.compose(question, packed.texts, self.settings.answer.extractive_sources,
                                   dense=[h.dense for h in packed.hits], dense_floor=self.settings.retrieval.min_relevance)

    def judge(self, question: str, hits: list[PaperHit], trusted: bool,
              sides: list[tuple[str, list[PaperHit]]] | None = None) -> list[tuple[PaperHit, tuple[str, float]]]:
        """Each hit with (judgement, probability) from the answerability model (assistant/answerability.py).

        ``trusted`` (an author match, or a follow-up about papers already found relevant): author-matched hits,
        or all hits for a follow-up, are relevant whatever the model says. ``sides``: a comparison's two
        described works and their own hits, matched to the first two hits (``assistant.compare.pick_pair``).
        """
        out = []
        for h, j in zip(hits, self.answerability.judge(question, hits, sides or ())):
            label = RELEVANT if trusted and (h.author_match or not any(x.author_match for x in hits)) else j.label
            out.append((h, (label, round(j.probability, 4))))
        return out

    @staticmethod
    def decide(judged: list[tuple[PaperHit, tuple[str, float]]]) -> str:
        """answered when a source is relevant; not_covered when only loosely related ones exist; else abstained."""
        labels = {j[0] for _, j in judged}
        return "answered" if RELEVANT in labels else "not_covered" if LOOSE in labels else "abstained"

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


def _source(hit: PaperHit, judged: tuple[str, float]) -> dict[str, Any]:
    return {"title": hit.paper.title, "score": round(hit.score, 4), "dense": None if hit.dense is None else round(hit.dense, 4),
            "paper_id": hit.paper_id, "authors": hit.paper.authors, "date": hit.paper.date, "url": hit.paper.url, "author_match": hit.author_match,
            "judgement": judged[0], "answerability": judged[1]}


def _citation(n: int, hit: PaperHit) -> Citation:
    p = hit.paper
    return Citation(n=n, title=p.title, authors=p.authors, date=p.date, paper_id=hit.paper_id, abstract=p.abstract, url=p.url)
