"""Late-interaction evidence (ColBERT / BERTScore style): does every concept of the question find a match in the paper?

The question and the paper (title + abstract, in passages of whole sentences) are encoded word by word with
the int8 MiniLM model (``OnnxMiniLM.words_and_vectors``: contextual word-piece vectors of the last hidden
state, averaged per word; from the same run, the question's own vector and each abstract sentence's vector
pooled over its word pieces in the context of its passage). For each content word of
the question, its MaxSim is the highest cosine to any word of the paper. A paraphrase that avoids the
abstract's words still matches its synonyms softly; an in-domain near-miss ("protein folding with
transformers" against a paper on transformers for code) leaves the concept the corpus lacks with no good
match, however much vocabulary the rest of the question shares. Four features:

- ``li_mean``: IDF-weighted mean MaxSim over the question's content words;
- ``li_low``: IDF-weighted mean MaxSim over the lowest-matched third of them (the missing concept);
- ``li_concept``: the worst-matched concept of the question (``assistant.concepts``: a run of consecutive
  content words such as "spiking neural networks"), its IDF share times (1 - its IDF-weighted mean MaxSim):
  a near-miss leaves one whole concept unmatched, which the word-level mean averages away;
- ``li_sent``: the cosine of the question's vector to its best-matching abstract sentence's. A question
  about one finding matches the sentence that states it much better than it matches the whole abstract
  (the retrieval chunk), and a near-miss that shares the paper's topic but not the finding does not.
  Pooling each sentence's states inside its passage costs nothing more than the word vectors (encoding the
  sentences one by one gave the same dev figures for li_sent but weaker word vectors: less context).

Papers are encoded on demand, a few per question (one ONNX call for all uncached papers), and
kept in a per-process LRU cache keyed by paper id; ``assistant.answerability`` asks only for sources its
cheap lexical model is unsure about.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Sequence

from assistant.concepts import concepts, weakest_concept
from assistant.text import split_sentences, stem

if TYPE_CHECKING:
    from assistant.extractive import SentencePicker
    from assistant.retrieval import PaperHit

FEATURES = ("li_mean", "li_low", "li_sent", "li_concept")
PAPER_CACHE = 512  # papers whose word and sentence vectors are kept (about 0.5 MB each at float32)
PIECE_WORDS = 150  # an abstract is encoded in pieces of whole sentences up to this many words (MiniLM reads 256 word pieces)


def pieces(title: str, abstract: str, limit: int = PIECE_WORDS) -> list[tuple[str, list[tuple[int, int]]]]:
    """The title and the abstract's sentences packed in order into passages of at most ``limit`` words, each
    with the character spans of its abstract sentences."""
    out: list[tuple[str, list[tuple[int, int]]]] = []
    text, spans, n = f"{title}.", [], len(title.split())
    for sentence in split_sentences(abstract):
        k = len(sentence.split())
        if text and n + k > limit:
            out.append((text, spans))
            text, spans, n = "", [], 0
        start = len(text) + 1 if text else 0
        text = f"{text} {sentence}" if text else sentence
        spans.append((start, start + len(sentence)))
        n += k
    if text:
        out.append((text, spans))
    return out


class LateInteraction:
    """MaxSim features of retrieved papers for a question; thread-safe, papers cached by id.

    ``encoder``: a callable returning the object with ``words_and_vectors(texts)`` (``ingest.onnx_model.OnnxMiniLM``),
    called on first use so a process that never needs these features never loads it twice."""

    def __init__(self, picker: SentencePicker, encoder: Callable[[], Any]) -> None:
        self.picker = picker
        self._encoder_factory = encoder
        self._encoder: Any = None
        self._papers: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def encoder(self) -> Any:
        with self._lock:
            if self._encoder is None:
                self._encoder = self._encoder_factory()
            return self._encoder

    def question(self, text: str) -> tuple[Any, Any, Any, list[list[int]]]:
        """The question's content words' vectors, their IDF weights (stop-words, punctuation and numbers left
        out), the question's own vector and its concepts (positions into the content words)."""
        import numpy as np

        encoded = self.encoder.words_and_vectors([text])[0]
        keep, spans = concepts(encoded.words)
        idf = np.array([self.picker.idf(stem(encoded.words[i])) for i in keep], dtype=np.float32)
        return encoded.vectors[keep], idf, encoded.text, spans

    def paper_vectors(self, hits: Sequence[PaperHit]) -> list[tuple[Any, Any]]:
        """Each hit's paper word vectors (title + abstract) and abstract sentence vectors, encoding the
        uncached papers in one batch."""
        import numpy as np

        with self._lock:
            cached = {h.paper_id: self._papers[h.paper_id] for h in hits if h.paper_id in self._papers}
            for pid in cached:
                self._papers.move_to_end(pid)
        todo = list({h.paper_id: h for h in hits if h.paper_id not in cached}.values())
        if todo:
            passages = [pieces(h.paper.title, h.paper.abstract) for h in todo]
            flat = self.encoder.words_and_vectors([t for parts in passages for t, _ in parts],
                                                  [s for parts in passages for _, s in parts])
            start = 0
            for h, parts in zip(todo, passages):
                encoded = flat[start : start + len(parts)]
                cached[h.paper_id] = (np.concatenate([e.vectors for e in encoded]), np.concatenate([e.spans for e in encoded]))
                start += len(parts)
            with self._lock:
                for h in todo:
                    self._papers[h.paper_id] = cached[h.paper_id]
                while len(self._papers) > PAPER_CACHE:
                    self._papers.popitem(last=False)
        return [cached[h.paper_id] for h in hits]

    def features(self, question: str, hits: Sequence[PaperHit]) -> list[dict[str, float]]:
        """The late-interaction ``FEATURES`` per hit, in hit order (0 for a question with no content word)."""
        if not hits:
            return []
        q, idf, pooled, spans = self.question(question)
        if not len(idf):
            return [{f: 0.0 for f in FEATURES} for _ in hits]
        return [maxsim_features(q, idf, words, pooled, sentences, spans) for words, sentences in self.paper_vectors(hits)]


def maxsim_features(q: Any, idf: Any, paper: Any, question: Any = None, sentences: Any = None,
                    spans: Sequence[Sequence[int]] = ()) -> dict[str, float]:
    """``q``: question word vectors (n x d), ``idf``: their weights (n), ``paper``: paper word vectors (m x d);
    ``question``: the question's vector (d), ``sentences``: the abstract sentences' vectors (k x d); ``spans``:
    the question's concepts (positions into its n words; each word its own concept when not given)."""
    import numpy as np

    best = (q @ paper.T).max(axis=1) if len(paper) else np.zeros(len(idf), dtype=np.float32)
    low = np.argsort(best, kind="stable")[: max(1, len(best) // 3)]
    sent = float((sentences @ question).max()) if question is not None and sentences is not None and len(sentences) else 0.0
    return {"li_mean": float((best * idf).sum() / idf.sum()),
            "li_low": float((best[low] * idf[low]).sum() / idf[low].sum()),
            "li_sent": sent,
            "li_concept": weakest_concept(best.tolist(), idf.tolist(), spans or [[i] for i in range(len(idf))])}
