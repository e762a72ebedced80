"""Papers to llama-index nodes: token-counted chunks that each carry their paper's metadata.

The chunk budget counts the title and authors that ride along with the text. With the default 384
tokens, 248 of the bundled corpus's 266 abstracts are one chunk and 18 (the longest, up to 435 cl100k
tokens of text) are two overlapping chunks split on sentence boundaries. 384 is chosen over a budget
that fits everything because the local embedder reads only 256 word pieces: a shorter chunk is
embedded whole. Every chunk keeps the title, so a hit on any of them cites the paper. Node ids are derived from the paper's content
hash, so an unchanged paper yields the same ids and is never embedded twice.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import MetadataMode, NodeRelationship, TextNode

from ingest.records import Paper
from ingest.tokens import count_tokens, encoding

# Metadata the embedder and BM25 see (title and authors make author questions answerable).
EMBED_KEYS = ("title", "authors")
LLM_KEYS = ("title", "authors", "date")


def _truncate(text: str, tokens: int) -> str:
    ids = encoding().encode(text)
    return text if len(ids) <= tokens else encoding().decode(ids[:tokens]).rstrip() + " …"


def visible_metadata(title: str, authors: list[str], budget: int) -> tuple[str, str]:
    """Title and author string as the embedder and the model see them, within ``budget`` tokens.

    Most papers fit whole. A paper with a hundred authors or a page-long title would otherwise leave no
    room for its text (llama-index refuses metadata longer than the chunk): its title is shortened to half
    the budget and its authors are listed until the budget is reached, then "et al. (N authors)". The full
    lists stay in the paper's record, which is what author search and citations read.
    """
    joined = "; ".join(authors)
    if count_tokens(f"title: {title}\nauthors: {joined}") <= budget:
        return title, joined
    title = _truncate(title, budget // 2)
    kept: list[str] = []
    tail = f" et al. ({len(authors)} authors)"
    for name in authors:
        if count_tokens(f"title: {title}\nauthors: {'; '.join(kept + [name])}{tail}") > budget:
            break
        kept.append(name)
    return title, ("; ".join(kept) + tail) if kept or authors else ""


def paper_metadata(paper: Paper, budget: int = 192) -> dict[str, str | int]:
    """Scalar-only metadata (Chroma's rule): lists become '; '-joined strings; title and authors are kept
    within ``budget`` tokens (see ``visible_metadata``)."""
    title, authors = visible_metadata(paper.title, paper.authors, budget)
    meta: dict[str, str | int | None] = {
        "paper_id": paper.paper_id,
        "content_hash": paper.content_hash(),
        "title": title,
        "authors": authors,
        "author_count": paper.author_count,
        "date": paper.date,
        "year": paper.year,
        "sources": "; ".join(sorted({s.file for s in paper.sources})),
    }
    return {k: v for k, v in meta.items() if v not in (None, "")}


def chunk_papers(papers: list[Paper], chunk_size: int, chunk_overlap: int) -> list[TextNode]:
    return list(iter_chunks(papers, chunk_size, chunk_overlap))


def iter_chunks(papers: Iterable[Paper], chunk_size: int, chunk_overlap: int) -> Iterator[TextNode]:
    """The chunks of ``papers``, one paper at a time (ingest streams them into Chroma in batches)."""
    splitter = SentenceSplitter(
        chunk_size=chunk_size, chunk_overlap=min(chunk_overlap, chunk_size // 2), tokenizer=encoding().encode
    )
    for paper in papers:
        meta = paper_metadata(paper, budget=chunk_size // 2)
        doc = Document(
            text=paper.abstract,
            id_=paper.paper_id,
            metadata=meta,
            excluded_embed_metadata_keys=[k for k in meta if k not in EMBED_KEYS],
            excluded_llm_metadata_keys=[k for k in meta if k not in LLM_KEYS],
        )
        for i, node in enumerate(_split(doc, splitter, chunk_size)):
            node.id_ = f"{paper.paper_id}-{meta['content_hash']}-{i}"
            node.metadata["chunk"] = i
            node.excluded_embed_metadata_keys.append("chunk")
            node.excluded_llm_metadata_keys.append("chunk")
            # PREV/NEXT would point at the splitter's random ids; the paper link is all a reader needs.
            node.relationships = {NodeRelationship.SOURCE: doc.as_related_node_info()}
            yield node


def _split(doc: Document, splitter: SentenceSplitter, chunk_size: int) -> list[TextNode]:
    """The splitter's nodes; an abstract that fits one chunk with room to spare (most do) skips it, with
    the node it would make: the whole text, stripped."""
    meta_tokens = max(count_tokens(doc.get_metadata_str(mode)) for mode in (MetadataMode.EMBED, MetadataMode.LLM))
    if len(doc.text) < 4 * chunk_size and count_tokens(doc.text) + meta_tokens + 16 <= chunk_size:
        return [TextNode(text=doc.text.strip(), metadata=dict(doc.metadata),
                         excluded_embed_metadata_keys=list(doc.excluded_embed_metadata_keys),
                         excluded_llm_metadata_keys=list(doc.excluded_llm_metadata_keys))]
    return splitter.get_nodes_from_documents([doc])


def store_metadata(node: TextNode, paper: Paper) -> dict[str, str | int | list[str]]:
    """What Chroma stores with a chunk: the node's scalar metadata plus the lists filters match with
    ``$contains`` (casefolded author names, source file names)."""
    meta: dict[str, str | int | list[str]] = dict(node.metadata)
    keys = sorted({a.casefold() for a in paper.authors})
    files = sorted({s.file for s in paper.sources})
    if keys:
        meta["author_keys"] = keys
    if files:
        meta["source_files"] = files
    return meta
