"""The query path reads Chroma and bm25s directly (assistant.engines); it must rank and score exactly as the
llama-index retrievers (VectorStoreIndex + ChromaVectorStore over the index's collection, BM25Retriever over
the same chunks, QueryFusionRetriever) do, on the real index, in every fusion mode and with a filter."""

from __future__ import annotations

import pytest

from assistant.engines import DenseSearch, KeywordSearch, fuse
from ingest.chunk import chunk_papers
from ingest.corpus import build_corpus
from ingest.embed import make_embedder, query_encoder
from ingest.store import open_index
from tests.conftest import CORPUS

QUESTIONS = ["What is KOALA++?", "How can data be selected for instruction tuning?", "process reward models for math",
             "What did Jinwoo Shin co-author?", "diffusion language models", "the the of"]


@pytest.fixture(scope="module")
def loaded(corpus_index):
    from tests.conftest import _settings_for

    settings = _settings_for(corpus_index)
    index = open_index(settings)
    encoder = query_encoder(settings)
    return settings, index, encoder


def _llama(index, encoder, settings, keywords, mask_ids=None):
    """llama-index's retrievers: the vector store over the index's collection, BM25 over the corpus's chunks
    in the keyword index's order (``mask_ids``: only those papers' chunks may be returned)."""
    from llama_index.core import VectorStoreIndex
    from llama_index.retrievers.bm25 import BM25Retriever
    from llama_index.vector_stores.chroma import ChromaVectorStore

    vector = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=index.collection),
                                                embed_model=make_embedder(settings, encoder=encoder))
    cfg = settings.ingest
    nodes = {n.node_id: n for n in chunk_papers(build_corpus(CORPUS, progress=False).papers, cfg.chunk_size, cfg.chunk_overlap)}
    ordered = [nodes[cid] for cid in keywords.index.ids]
    mask = None if mask_ids is None else [int(n.metadata["paper_id"] in mask_ids) for n in ordered]
    return vector, BM25Retriever(nodes=ordered, corpus_weight_mask=mask)


def _pairs(nodes):
    return [(n.node.node_id, n.node.get_content(), n.node.metadata["paper_id"], n.score) for n in nodes]


def _ours(chunks):
    return [(c.node_id, c.text, c.metadata["paper_id"], c.score) for c in chunks]


@pytest.mark.slow
def test_dense_and_keyword_searches_equal_llama_index_retrievers(loaded):
    from llama_index.core.schema import QueryBundle
    from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

    settings, index, encoder = loaded
    dense, keywords = DenseSearch(index.collection), KeywordSearch(index.generation_dir / "bm25", index.collection)
    vector, bm25 = _llama(index, encoder, settings, keywords)
    some = sorted({m["paper_id"] for m in index.collection.get(limit=40, include=["metadatas"])["metadatas"]})
    _, bm25_some = _llama(index, encoder, settings, keywords, mask_ids=set(some))
    mask = keywords.index.mask(paper_ids=set(some))
    for q in QUESTIONS:
        emb = encoder.get_query_embedding(q)
        bundle = QueryBundle(query_str=q, embedding=emb)
        for depth in (10, 30):
            assert _ours(dense.search(emb, depth)) == _pairs(vector.as_retriever(similarity_top_k=depth).retrieve(bundle))
            bm25.similarity_top_k = depth
            assert _ours(keywords.search(q, depth)) == _pairs(bm25.retrieve(bundle))
        flt = MetadataFilters(filters=[MetadataFilter(key="paper_id", value=some, operator=FilterOperator.IN)])
        assert _ours(dense.search(emb, 20, {"paper_id": {"$in": some}})) == _pairs(
            vector.as_retriever(similarity_top_k=20, filters=flt).retrieve(bundle))
        bm25_some.similarity_top_k = 20
        assert _ours(keywords.search(q, 20, mask)) == [p for p in _pairs(bm25_some.retrieve(bundle)) if p[2] in some]


def _as_stored(retriever, collection):
    """``retriever`` with each chunk it returns as the collection stores it (text and metadata in one key
    order): QueryFusionRetriever merges the two sides' copies of a chunk by node hash, which reads both."""
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.schema import NodeWithScore, TextNode

    class Stored(BaseRetriever):
        def _retrieve(self, query_bundle):
            found = retriever.retrieve(query_bundle)
            got = collection.get(ids=[n.node.node_id for n in found], include=["documents", "metadatas"])
            rows = {cid: (doc, meta) for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}
            return [NodeWithScore(node=TextNode(id_=n.node.node_id, text=rows[n.node.node_id][0],
                                                metadata=dict(sorted(rows[n.node.node_id][1].items()))), score=n.score)
                    for n in found]

    return Stored()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["relative_score", "dist_based_score", "reciprocal_rerank"])
def test_fusion_equals_query_fusion_retriever(loaded, mode):
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
    from llama_index.core.schema import QueryBundle

    settings, index, encoder = loaded
    dense, keywords = DenseSearch(index.collection), KeywordSearch(index.generation_dir / "bm25", index.collection)
    vector, bm25 = _llama(index, encoder, settings, keywords)
    for q in QUESTIONS:
        for weight, depth in ((0.5, 10), (0.7, 10), (0.3, 25)):
            emb = encoder.get_query_embedding(q)
            bm25.similarity_top_k = depth
            expected = QueryFusionRetriever(
                [_as_stored(vector.as_retriever(similarity_top_k=depth), index.collection), _as_stored(bm25, index.collection)],
                llm=MockLLM(), mode=FUSION_MODES(mode), num_queries=1,
                use_async=False, similarity_top_k=depth, retriever_weights=[weight, 1.0 - weight],
            ).retrieve(QueryBundle(query_str=q, embedding=emb))
            got = fuse([dense.search(emb, depth), keywords.search(q, depth)], mode, [weight, 1.0 - weight], depth)
            assert [c.node_id for c in got] == [n.node.node_id for n in expected]
            assert [c.score for c in got] == pytest.approx([n.score for n in expected], abs=1e-12)


@pytest.mark.slow
def test_filtered_dense_search_over_the_vectors_file_equals_chromas_where(loaded):
    from ingest import vectors

    settings, index, encoder = loaded
    keywords = KeywordSearch(index.generation_dir / "bm25", index.collection)
    matrix = vectors.load(index.generation_dir, index.manifest["embedding_dim"], len(keywords))
    assert matrix is not None  # ingest wrote it, in the keyword index's order
    exact, chroma = DenseSearch(index.collection, matrix, keywords.index.ids), DenseSearch(index.collection)
    for year in (2023, 2024, 2025):
        rows = keywords.index.mask(year_from=year, year_to=year).nonzero()[0]
        for q in QUESTIONS:
            emb = encoder.get_query_embedding(q)
            got, want = exact.search(emb, 10, rows=rows), chroma.search(emb, 10, where={"year": {"$eq": year}})
            assert [c.node_id for c in got] == [c.node_id for c in want]
            assert [c.score for c in got] == pytest.approx([c.score for c in want], abs=1e-5)
