"""Group a summary's papers into themes and give each theme a real name.

Grouping: k-means (scikit-learn) over the papers' stored embeddings (the mean of each paper's chunk
vectors), k growing with the square root of the count, at most ``MAX_THEMES``.

Naming, as BERTopic names its topics: class-based TF-IDF over word n-grams (scikit-learn's
CountVectorizer), where each theme is one class, weighted by the phrase's IDF over the corpus's papers, so
a phrase scores high when it is frequent in the theme and rare elsewhere. Candidates are 2-4 word n-grams
of the theme's papers that read as the name of a line of work, not as prose or a fragment: they do not
start or end with a stopword, an evaluative adjective or a verb of abstracts' prose, hold no article,
demonstrative or modal, do not end in a participle, a subject's verb ("models learn") or a word English
uses only as an adjective (lemminflect's lexicon: "graph neural", "learning theoretic"), hold a function
word only when a title does ("chain of thought"), and are not nearly always part of a longer phrase. Each
candidate is scored on:

- distinctiveness: the normalised c-TF-IDF (x1.3 when some paper's title uses the phrase: titles name
  lines of work); a phrase in more than ``GENERIC_SHARE`` of the corpus's papers in any inflection
  ("large language models", "reward model") is left out while any other phrase fits;
- coverage: the share of the theme's papers whose words hold the phrase's (stemmed, any order), times how
  rarely corpus papers hold them all (so "resulting model" covering everything counts little), minus the
  share of the summary's other themes' papers that do (contrast against the siblings);
- the embedding check: the phrase's cosine to the theme's centroid plus its margin over the nearest of the
  other themes' centroids and the whole corpus's centroid, so the name represents this group rather than
  the topic or the field.

Themes are named best (theme, phrase) pair first; no name holds another's words or the reverse ("Reasoning
models" beside "Large reasoning models"). Fallbacks, in order, when a theme has no candidate: phrases made
only of the topic's words (a one-theme summary may use them from the start); a phrase of one of the
theme's papers that the embedding check finds central; a corpus-wide phrase; the best paper's title. A
one-paper theme is named from its title: what that paper does. The name shown is the phrase exactly as
it is written in one of the theme's papers (case and hyphens kept). ``evals/theme_names.py`` measures it.
"""

from __future__ import annotations

import itertools
import math
import re
import weakref
from collections import Counter
from functools import lru_cache
from typing import Any

import numpy as np

from assistant.gather import corpus_vectors
from assistant.retrieval import PaperHit
from assistant.text import STOPWORDS, content_words, stem

MAX_THEMES = 5
NGRAMS = (2, 4)
EMBED_CHECK = 6  # candidates per theme that get the embedding check
TITLE_BONUS = 1.3  # c-TF-IDF factor for a phrase some paper's title uses
_TOKEN = r"(?u)\b[A-Za-z][\w*]*(?:-[\w*]+)*\b"
_EXTRA_STOP = frozenset("via towards toward across within without upon among et al whether".split())


def paper_text(hit: PaperHit) -> str:
    return f"{hit.paper.title}. {hit.paper.abstract}"


def cluster(assistant: Any, hits: list[PaperHit]) -> list[list[PaperHit]]:
    """Themes as lists of papers, each in rank order; themes ordered by their best paper."""
    from sklearn.cluster import KMeans

    k = max(1, min(MAX_THEMES, round(math.sqrt(len(hits) / 2)), len(hits)))
    if k == 1:
        return [list(hits)]
    vectors = corpus_vectors(assistant.retriever)
    matrix = np.stack([vectors.papers[vectors.row[h.paper_id]] for h in hits])
    labels = KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(matrix)
    groups: dict[int, list[PaperHit]] = {}
    for h, label in zip(hits, labels):
        groups.setdefault(int(label), []).append(h)
    return sorted(groups.values(), key=lambda g: hits.index(g[0]))


_NAME_WORDS = frozenset("use method methods".split())  # stopwords for retrieval, fine at a name's edge ("tool use")
_EVALUATIVE = frozenset("novel simple effective efficient surprising strong better best different various several existing "
                        "recent key main general specific significant substantial comprehensive extensive often fail "
                        "fails performance results state-of-the-art art".split())


# the verbs and sentence adverbs of abstracts' prose: a phrase starting or ending with one is a clause
# ("address this issue", "first introduce", "bridge this gap"), not the name of a line of work
_PROSE = frozenset("first second finally moreover furthermore however therefore additionally thus whole current "
                   "address addresses bridge take takes introduce introduces propose proposes present presents show "
                   "shows demonstrate demonstrates investigate investigates achieve achieves leverage leverages "
                   "provide provides analyze analyzes analyse evaluate evaluates explore explores enable enables "
                   "apply applies perform performs conduct conducts outperform outperforms tackle tackles overcome "
                   "mitigate mitigates alleviate improve improves enhance enhances solve solves reduce reduces make "
                   "makes allow allows help helps predicting result resulting understand rethink revisit unveil boost examine".split())
# words a name never holds anywhere: demonstratives and modals belong to sentences ("network may", "this gap")
_CLAUSE = frozenset("the a an this that these those may might can could will would should must".split())


# function words that end a hyphen-joined token only by a typo ("reasoning-such"; "logit-based" is a word)
_JOINED = frozenset("such and or of to in on for with as is are its their which that this the a an".split())


def _stopword(token: str) -> bool:
    """Words a name must not start or end with: function words, evaluative adjectives, adverbs, prose verbs."""
    if "-" in token and token.rsplit("-", 1)[1] in _JOINED:  # a typo joining a word to the next: "reasoning-such"
        return True
    return token in STOPWORDS and token not in _NAME_WORDS or token in _EXTRA_STOP or token in _EVALUATIVE or token.endswith("ly") \
        or token in _PROSE or len(token) < 3 and not token.isupper()


def _clause(tokens: list[str]) -> bool:
    """A run of prose rather than a name: an article, demonstrative or modal anywhere, a participle at the end
    ("models trained", "networks trained") or a plural noun and its verb ("models learn")."""
    return any(t in _CLAUSE for t in tokens) or len(tokens[-1]) > 5 and tokens[-1].endswith("ed") \
        or _kinds(tokens[-1]) == {"VERB"} and tokens[-2].endswith("s")  # a subject and its verb: "models learn"


def _surface(phrase: str, texts: list[str]) -> str | None:
    """The phrase as written in the texts, or None when it does not occur literally. Prose forms win over
    title case ("process reward models" over "Process Reward Models"); acronyms keep their case."""
    pattern = re.compile(r"(?<![\w-])" + r"\s+".join(re.escape(t) for t in phrase.split()) + r"(?![\w-])", re.IGNORECASE)
    forms: Counter[str] = Counter()
    for text in texts:
        forms.update(re.sub(r"\s+", " ", m.group(0)) for m in pattern.finditer(text))
    if not forms:
        return None

    def prose(form: str) -> bool:
        return all(not w[:1].isupper() or w.isupper() or any(c.isupper() for c in w[1:]) for w in form.split()[1:])

    form = max(forms, key=lambda f: (prose(f), forms[f]))
    first = form.split()[0]
    if first[:1].isupper() and first[1:].islower():  # sentence-initial or title case, not an acronym
        form = first.lower() + form[len(first):]
    return form


class CorpusNgrams:
    """The n-gram vocabulary and counts of the whole corpus, fitted once per loaded index."""

    def __init__(self, assistant: Any) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        self.vectorizer = CountVectorizer(ngram_range=(1, NGRAMS[1]), token_pattern=_TOKEN, lowercase=True, min_df=1)
        counts = self.vectorizer.fit_transform(paper_text(h) for _, h in _corpus_hits(assistant))
        self.vocab = list(self.vectorizer.get_feature_names_out())
        self.frequency = np.asarray(counts.sum(axis=0)).ravel().astype(float)
        self.document_frequency = np.asarray((counts > 0).sum(axis=0)).ravel().astype(float)
        self.n_papers = counts.shape[0]
        self.index = {v: i for i, v in enumerate(self.vocab)}
        self.unigrams = np.array([" " not in v for v in self.vocab])
        self.phrase_vectors: dict[str, np.ndarray] = {}
        self._has = (counts > 0).tocsr()  # per corpus paper: which n-grams its text has
        self._columns = self._has.tocsc()
        self._variants: dict[tuple[str, ...], list[int]] = {}  # stemmed phrase -> its n-grams ("language model(s)")
        for j, v in enumerate(self.vocab):
            if " " in v:
                self._variants.setdefault(tuple(stem(t) for t in v.split()), []).append(j)
        self._variant_sum = self.document_frequency.copy()  # an upper bound of the phrase's frequency
        for columns in self._variants.values():
            if len(columns) > 1:
                self._variant_sum[columns] = self.document_frequency[columns].sum()
        self._phrase_df: dict[int, int] = {}
        self._row = {pid: i for i, (pid, _) in enumerate(_corpus_hits(assistant))}
        self.papers_with: dict[str, set[int]] = {}  # stemmed content word -> the corpus papers whose text has it
        for i, (_, h) in enumerate(_corpus_hits(assistant)):
            for w in content_words(paper_text(h)):
                self.papers_with.setdefault(w, set()).add(i)
        titles = self.vectorizer.transform(h.paper.title for _, h in _corpus_hits(assistant))
        self.in_titles = np.asarray((titles > 0).sum(axis=0)).ravel() > 0  # per n-gram: does a paper's title use it

    def specificity(self, words: set[str]) -> float:
        """How rarely the corpus's papers hold all these words (any order): IDF over papers, scaled to 0-1."""
        rows = set.intersection(*(self.papers_with.get(w, set()) for w in words)) if words else set()
        return math.log(self.n_papers / max(len(rows), 1)) / math.log(max(self.n_papers, 2))

    def phrase_frequency(self, j: int) -> int:
        """In how many corpus papers n-gram ``j`` occurs in any inflection ("language model" or "models")."""
        if self._variant_sum[j] == self.document_frequency[j]:
            return int(self.document_frequency[j])
        if j not in self._phrase_df:
            columns = self._variants.get(tuple(stem(t) for t in self.vocab[j].split()), [j])
            self._phrase_df[j] = int((self._columns[:, columns].sum(axis=1) > 0).sum())
        return self._phrase_df[j]

    def present(self, paper_ids: list[str]) -> np.ndarray:
        """Per n-gram, in how many of these papers' texts it occurs (the corpus counts, not a new count)."""
        return self._has[[self._row[pid] for pid in paper_ids]].sum(axis=0).A1


_NGRAMS: "weakref.WeakKeyDictionary[Any, CorpusNgrams]" = weakref.WeakKeyDictionary()


def _ctfidf(assistant: Any, classes: list[str]) -> tuple[np.ndarray, list[str]]:
    """BERTopic's class-based TF-IDF: tf of the n-gram in the class (normalised) x log(1 + A / f), where f is
    the n-gram's frequency over the corpus and A the average number of words per class."""
    if assistant.retriever not in _NGRAMS:
        _NGRAMS[assistant.retriever] = CorpusNgrams(assistant)
    grams = _NGRAMS[assistant.retriever]
    counts = grams.vectorizer.transform(classes).toarray().astype(float)
    words_per_class = counts[:, grams.unigrams].sum(axis=1)
    average = float(words_per_class.mean()) or 1.0
    tf = counts / np.maximum(words_per_class[:, None], 1.0)
    ctfidf = tf * np.log(1.0 + average / np.maximum(grams.frequency, 1.0))
    # a phrase in many papers of the corpus ("large language models") names no theme: weight by paper IDF
    return ctfidf * np.log(grams.n_papers / np.maximum(grams.document_frequency, 1.0)), grams.vocab


GENERIC_SHARE = 0.05  # a phrase in more of the corpus's papers than this names no theme while a rarer one fits


def name_themes(assistant: Any, themes: list[list[PaperHit]], topic: str) -> list[str]:
    """A readable 2-4 word name per theme, drawn from the theme's own papers (see the module docstring)."""
    scores, _ = _ctfidf(assistant, [" ".join(paper_text(h) for h in g) for g in themes])
    grams = _NGRAMS[assistant.retriever]
    topic_words = content_words(topic)
    centroids = _centroids(assistant, themes)
    bags = [[content_words(paper_text(h)) for h in g] for g in themes]
    # (papers that must hold the phrase, the topic's own words allowed, corpus-wide phrases allowed, only the
    # best paper's title): strict first; then the topic's words; then a phrase of one of the theme's papers
    # that the embedding check finds central; then corpus-wide phrases; then the best paper's title
    single = len(themes) == 1
    passes = [(2, single, False, False), (2, True, False, False), (1, True, False, False), (2, True, True, False),
              (1, True, True, True)]
    names: list[str | None] = [None] * len(themes)
    for need, allow_topic, allow_generic, title_only in passes:
        todo = [t for t in range(len(themes)) if names[t] is None]
        if not todo:
            break
        ranked = {}
        for t in todo:
            group = themes[t][:1] if title_only or len(themes[t]) == 1 else themes[t]
            present = grams.present([h.paper_id for h in group])
            titles = content_words(" ".join(h.paper.title for h in group)) if len(group) == 1 else None
            texts = [paper_text(h) for h in group]
            options = sorted(_candidates(scores[t], grams, present, min(need, len(group)), titles,
                                         set() if allow_topic else topic_words, bags, t,
                                         None if allow_generic else GENERIC_SHARE * grams.n_papers), reverse=True)
            ranked[t] = list(itertools.islice((c for c in options if not _fragment(c[1], texts)), EMBED_CHECK))
        for t, choice in _embedding_check(assistant, ranked, centroids, names).items():
            names[t] = _surface(choice, [paper_text(h) for h in themes[t]])
    out = [n or _fallback(assistant, g[0]) for n, g in zip(names, themes)]
    return [n[:1].upper() + n[1:] for n in out]


def _candidates(scores: np.ndarray, grams: CorpusNgrams, present: np.ndarray, need: int, title_words: set[str] | None,
                avoid: set[str], bags: list[list[set[str]]], theme: int, max_df: float | None) -> list[tuple[float, str]]:
    """2-4 word n-grams by c-TF-IDF found in the theme's papers (``present``: per n-gram, in how many) and
    whose words (stemmed, any order) ``need`` of them hold, not made only of ``avoid`` words, in at most
    ``max_df`` corpus papers (any inflection); with ``title_words``, only phrases of that title: what the paper
    does. The score adds to the normalised c-TF-IDF the share of the theme's papers that hold the phrase's
    words (times how rarely corpus papers hold them all), minus the share of the summary's other themes'
    papers that do, so a name is shared by its group, says more than the corpus's common words, and is not
    shared by the rest."""
    vocab, in_titles = grams.vocab, grams.in_titles
    others = [b for u, group in enumerate(bags) if u != theme for b in group]
    found: list[tuple[float, float, str]] = []
    for j in np.argsort(-scores)[:2000]:
        if scores[j] <= 0 or len(found) >= 40:
            break
        tokens = vocab[j].split()
        if present[j] < 1 or not NGRAMS[0] <= len(tokens) <= NGRAMS[1] or _stopword(tokens[0]) or _stopword(tokens[-1]) \
                or _clause(tokens) or _adjective(tokens[-1]) or _verb_first(tokens[0]) \
                or max_df is not None and grams.phrase_frequency(j) > max_df:
            continue
        if not in_titles[j] and any(t in STOPWORDS for t in tokens):
            continue  # "applied to cluster", "teacher and student": prose, unless a title names it so ("chain of thought")
        words = content_words(vocab[j])
        if not words or (avoid and words <= avoid) or (title_words is not None and not words <= title_words):
            continue
        holds = sum(1 for b in bags[theme] if words <= b)
        if holds < need:
            continue
        outside = sum(1 for b in others if words <= b) / len(others) if others else 0.0
        # (c-TF-IDF, favouring phrases titles use: names of lines of work; shared in the theme, not outside)
        share = holds / len(bags[theme]) * grams.specificity(words) - outside
        found.append((float(scores[j]) * (TITLE_BONUS if in_titles[j] else 1.0), share, vocab[j]))
    if not found:
        return []
    top = max(f[0] for f in found)
    return [(s / top + share, phrase) for s, share, phrase in found]


@lru_cache(maxsize=65536)
def _lemmas(token: str) -> dict[str, tuple[str, ...]]:
    """The word classes English uses the word in (lemminflect's lexicon), {} for a name, number or compound."""
    import lemminflect

    return lemminflect.getAllLemmas(token) if token.isalpha() else {}


def _kinds(token: str) -> set[str]:
    return set(_lemmas(token))


def _verb_first(token: str) -> bool:
    """A verb that starts a clause, not a name: a word English uses only as a verb ("learn from problems"),
    unless it is a gerund of a verb outside abstracts' prose ("reasoning models", "aligning language models")."""
    if _kinds(token) != {"VERB"}:
        return False
    return not token.endswith("ing") or any(v in _PROSE or v + "s" in _PROSE for v in _lemmas(token)["VERB"])


def _adjective(token: str) -> bool:
    """A word English uses only as an adjective or adverb ("neural", "theoretic"), or only as a verb other than
    a gerund in an inflected form ("model learns", not "test-time compute"): a name never ends in one."""
    kinds = _kinds(token)
    return bool(kinds) and kinds <= {"ADJ", "ADV"} or kinds == {"VERB"} and token not in _lemmas(token)["VERB"] \
        and not token.endswith("ing")


def _fragment(phrase: str, texts: list[str]) -> bool:
    """Is the phrase nearly always part of a longer one in these texts (the same word before or after it, or,
    when it ends in a word that can be an adjective, any noun after it: "rule-based visual" reasoning)?"""
    body = r"\s+".join(re.escape(t) for t in phrase.split())
    bare = re.compile(rf"(?<![\w-]){body}(?![\w-])", re.IGNORECASE)  # a quick scan first: most texts lack the phrase
    found = [m for text in texts if bare.search(text)
             for m in re.finditer(rf"(\S+)?\s*(?<![\w-]){body}(?![\w-])\s*([\w-]+)?", text, re.IGNORECASE)]
    if not found:
        return True
    for side in (1, 2):
        words = Counter(stem((m.group(side) or "").lower().strip(",.;:()")) for m in found)
        word, count = words.most_common(1)[0]
        if word and word not in STOPWORDS and re.fullmatch(r"[\w-]+", word) and count >= 0.8 * len(found):
            return True
    if _kinds(phrase.split()[-1].lower()) & {"ADJ"}:
        followed = sum(1 for m in found if m.group(2) and m.group(2).lower() not in STOPWORDS)
        return followed >= 0.8 * len(found)
    return False


def _embedding_check(assistant: Any, ranked: dict[int, list[tuple[float, str]]], centroids: np.ndarray,
                     taken: list[str | None]) -> dict[int, str]:
    """Per theme, the candidate that best represents it: its score plus the phrase's similarity to the theme's
    centroid and its margin over the other themes' (one embedding call for all themes). Themes are named
    best pair first, and no name repeats another's words ("Reasoning models" beside "Large reasoning models")."""
    phrases = sorted({p for options in ranked.values() for _, p in options})
    if not phrases:
        return {}
    cache = _NGRAMS[assistant.retriever].phrase_vectors  # phrases recur across summaries of one corpus
    new = [p for p in phrases if p not in cache]
    if new:
        vecs = np.asarray(assistant.retriever.embed_model.get_text_embedding_batch(new), dtype=np.float32)
        cache.update(zip(new, vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)))
    corpus = corpus_vectors(assistant.retriever).papers.mean(axis=0)
    corpus = corpus / max(float(np.linalg.norm(corpus)), 1e-9)
    pairs = []
    for t, options in ranked.items():
        for s, phrase in options:
            sims = cache[phrase] @ centroids.T
            others = np.delete(sims, t)
            margin = sims[t] - max(float(others.max()) if others.size else -1.0, float(cache[phrase] @ corpus))
            pairs.append((s + float(sims[t]) + margin, t, phrase))
    chosen: dict[int, str] = {}
    used = [content_words(x) for x in taken if x]
    for _, t, phrase in sorted(pairs, reverse=True):
        words = content_words(phrase)
        if t in chosen or any(words <= u or u <= words for u in used):
            continue
        chosen[t] = phrase
        used.append(words)
    return chosen


def _centroids(assistant: Any, themes: list[list[PaperHit]]) -> np.ndarray:
    vectors = corpus_vectors(assistant.retriever)
    rows = [vectors.papers[[vectors.row[h.paper_id] for h in g]].mean(axis=0) for g in themes]
    m = np.stack(rows)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


def _corpus_hits(assistant: Any) -> list[tuple[str, PaperHit]]:
    papers = assistant.retriever.papers
    return [(pid, PaperHit(paper=p, paper_id=pid, score=0.0, dense=None, bm25=None)) for pid, p in papers.items()]


def _fallback(assistant: Any, hit: PaperHit) -> str:
    """When no phrase qualifies: the 2-4 word phrase of the paper's title that is rarest in the corpus."""
    grams = _NGRAMS[assistant.retriever]
    index = grams.index
    tokens = re.findall(_TOKEN, hit.paper.title)
    best, choice = -1.0, None
    for size in (4, 3, 2):
        for i in range(len(tokens) - size + 1):
            gram = tokens[i:i + size]
            low = " ".join(gram).lower()
            if _stopword(gram[0].lower()) or _stopword(gram[-1].lower()) or _clause(low.split()) or low not in index \
                    or _surface(low, [hit.paper.title]) is None or _fragment(low, [hit.paper.title]):
                continue
            value = math.log(grams.n_papers / max(grams.document_frequency[index[low]], 1.0)) + 0.1 * size
            if value > best:
                best, choice = value, " ".join(gram)
    return choice or hit.paper.title.split(":")[0].strip()


def group(assistant: Any, hits: list[PaperHit], topic: str) -> list[tuple[str, list[PaperHit]]]:
    """(name, papers) per theme."""
    if not hits:
        return []
    themes = cluster(assistant, hits)
    return list(zip(name_themes(assistant, themes, topic), themes))


def name_in_papers(name: str, texts: list[str]) -> bool:
    """Does the theme name occur as a phrase (case-insensitive, any whitespace) in one of the texts?"""
    pattern = r"(?<![\w-])" + r"\s+".join(re.escape(t) for t in name.split()) + r"(?![\w-])"
    return any(re.search(pattern, text, re.IGNORECASE) for text in texts)
