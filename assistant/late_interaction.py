"""Late-interaction evidence (ColBERT / BERTScore style): does every concept of the question find a match in the paper?

The question and the paper (title + abstract) are encoded word by word with the int8 MiniLM model
(``OnnxMiniLM.word_vectors``: contextual word-piece vectors of the last hidden state, averaged per word).
For each content word of the question, its MaxSim is the highest cosine to any word of the paper. A
paraphrase that avoids the abstract's words still matches its synonyms softly; an in-domain near-miss
("protein folding with transformers" against a paper on transformers for code) leaves the concept the
corpus lacks with no good match, however much vocabulary the rest of the question shares. Two features:

- ``li_mean``: IDF-weighted mean MaxSim over the question's content words;
- ``li_low``: IDF-weighted mean MaxSim over the lowest-matched third of them (the missing concept).

Papers are encoded on demand, a few per question (one ONNX call for all uncached papers), and kept in a
per-process LRU cache keyed by paper id; ``assistant.answerability`` asks only for sources its cheap
lexical model is unsure about.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Sequence

from assistant.text import STOPWORDS, split_sentences, stem

if TYPE_CHECKING:
    from assistant.extractive import SentencePicker
    from assistant.retrieval import PaperHit

FEATURES = ("li_mean", "li_low")
PAPER_CACHE = 512  # papers whose word vectors are kept (about 0.45 MB each at float32)
PIECE_WORDS = 150  # an abstract is encoded in pieces of whole sentences up to this many words (MiniLM reads 256 word pieces)
_CONTENT = re.compile(r"[a-z][a-z0-9]*")


def pieces(title: str, abstract: str, limit: int = PIECE_WORDS) -> list[str]:
    """The title and the abstract's sentences packed in order into passages of at most ``limit`` words."""
    out: list[str] = []
    current, n = [f"{title}."], len(title.split())
    for sentence in split_sentences(abstract):
        k = len(sentence.split())
        if current and n + k > limit:
            out.append(" ".join(current))
            current, n = [], 0
        current.append(sentence)
        n += k
    if current:
        out.append(" ".join(current))
    return out


class LateInteraction:
    """MaxSim features of retrieved papers for a question; thread-safe, papers cached by id.

    ``encoder``: a callable returning the object with ``word_vectors(texts)`` (``ingest.onnx_model.OnnxMiniLM``),
    called on first use so a process that never needs these features never loads it twice."""

    def __init__(self, picker: SentencePicker, encoder: Callable[[], Any]) -> None:
        self.picker = picker
        self._encoder_factory = encoder
        self._encoder: Any = None
        self._papers: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def encoder(self) -> Any:
        with self._lock:
            if self._encoder is None:
                self._encoder = self._encoder_factory()
            return self._encoder

    def question(self, text: str) -> tuple[Any, Any]:
        """The question's content words' vectors and IDF weights (stop-words, punctuation and numbers left out)."""
        import numpy as np

        words, vecs = self.encoder.word_vectors([text])[0]
        keep = [i for i, w in enumerate(words) if _CONTENT.fullmatch(w) and w not in STOPWORDS and len(w) > 2]
        idf = np.array([self.picker.idf(stem(words[i])) for i in keep], dtype=np.float32)
        return vecs[keep], idf

    def paper_vectors(self, hits: Sequence[PaperHit]) -> list[Any]:
        """Each hit's paper word vectors (title + abstract), encoding the uncached ones in one batch."""
        import numpy as np

        with self._lock:
            cached = {h.paper_id: self._papers[h.paper_id] for h in hits if h.paper_id in self._papers}
            for pid in cached:
                self._papers.move_to_end(pid)
        todo = list({h.paper_id: h for h in hits if h.paper_id not in cached}.values())
        if todo:
            texts = [pieces(h.paper.title, h.paper.abstract) for h in todo]
            flat = self.encoder.word_vectors([t for parts in texts for t in parts])
            start = 0
            for h, parts in zip(todo, texts):
                cached[h.paper_id] = np.concatenate([v for _, v in flat[start : start + len(parts)]])
                start += len(parts)
            with self._lock:
                for h in todo:
                    self._papers[h.paper_id] = cached[h.paper_id]
                while len(self._papers) > PAPER_CACHE:
                    self._papers.popitem(last=False)
        return [cached[h.paper_id] for h in hits]

    def features(self, question: str, hits: Sequence[PaperHit]) -> list[dict[str, float]]:
        """``li_mean`` and ``li_low`` per hit, in hit order (0 for a question with no content word)."""
        if not hits:
            return []
        q, idf = self.question(question)
        if not len(idf):
            return [{f: 0.0 for f in FEATURES} for _ in hits]
        return [maxsim_features(q, idf, p) for p in self.paper_vectors(hits)]


def maxsim_features(q: Any, idf: Any, paper: Any) -> dict[str, float]:
    """``q``: question word vectors (n x d), ``idf``: their weights (n), ``paper``: paper word vectors (m x d)."""
    import numpy as np

    best = (q @ paper.T).max(axis=1) if len(paper) else np.zeros(len(idf), dtype=np.float32)
    low = np.argsort(best, kind="stable")[: max(1, len(best) // 3)]
    return {"li_mean": float((best * idf).sum() / idf.sum()),
            "li_low": float((best[low] * idf[low]).sum() / idf[low].sum())}
