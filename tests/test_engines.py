"""The query path reads Chroma and bm25s directly (assistant.engines); it must rank and score exactly as the
llama-index retrievers that ingest writes the index for (VectorStoreIndex + ChromaVectorStore, BM25Retriever,
QueryFusionRetriever), on the real index, in every fusion mode and with a filter."""

from __future__ import annotations

import pytest

from assistant.engines import DenseSearch, KeywordSearch, fuse
from ingest.embed import make_embedder, query_encoder
from ingest.store import open_index

QUESTIONS = ["What is KOALA++?", "How can data be selected for instruction tuning?", "process reward models for math",
             "What did Jinwoo Shin co-author?", "diffusion language models", "the the of"]


@pytest.fixture(scope="module")
def loaded(corpus_index):
    from tests.conftest import _settings_for

    settings = _settings_for(corpus_index)
    index = open_index(settings)
    encoder = query_encoder(settings)
    return settings, index, encoder


def _llama(index, encoder, settings):
    from llama_index.core import VectorStoreIndex
    from llama_index.retrievers.bm25 import BM25Retriever
    from llama_index.vector_stores.chroma import ChromaVectorStore

    vector = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=index.collection),
                                                embed_model=make_embedder(settings, encoder=encoder))
    return vector, BM25Retriever.from_persist_dir(str(index.generation_dir / "bm25"))


def _pairs(nodes):
    return [(n.node.node_id, n.node.get_content(), n.node.metadata["paper_id"], n.score) for n in nodes]


def _ours(chunks):
    return [(c.node_id, c.text, c.metadata["paper_id"], c.score) for c in chunks]


@pytest.mark.slow
def test_dense_and_keyword_searches_equal_llama_index_retrievers(loaded):
    from llama_index.core.schema import QueryBundle
    from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

    settings, index, encoder = loaded
    vector, bm25 = _llama(index, encoder, settings)
    dense, keywords = DenseSearch(index.collection), KeywordSearch(index.generation_dir / "bm25")
    some = sorted({m["paper_id"] for m in index.collection.get(limit=40, include=["metadatas"])["metadatas"]})
    for q in QUESTIONS:
        emb = encoder.get_query_embedding(q)
        bundle = QueryBundle(query_str=q, embedding=emb)
        for depth in (10, 30):
            assert _ours(dense.search(emb, depth)) == _pairs(vector.as_retriever(similarity_top_k=depth).retrieve(bundle))
            bm25.similarity_top_k = depth
            assert _ours(keywords.search(q, depth)) == _pairs(bm25.retrieve(bundle))
        flt = MetadataFilters(filters=[MetadataFilter(key="paper_id", value=some, operator=FilterOperator.IN)])
        assert _ours(dense.search(emb, 20, set(some))) == _pairs(vector.as_retriever(similarity_top_k=20, filters=flt).retrieve(bundle))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["relative_score", "dist_based_score", "reciprocal_rerank"])
def test_fusion_equals_query_fusion_retriever(loaded, mode):
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
    from llama_index.core.schema import QueryBundle

    settings, index, encoder = loaded
    vector, bm25 = _llama(index, encoder, settings)
    dense, keywords = DenseSearch(index.collection), KeywordSearch(index.generation_dir / "bm25")
    for q in QUESTIONS:
        for weight, depth in ((0.5, 10), (0.7, 10), (0.3, 25)):
            emb = encoder.get_query_embedding(q)
            bm25.similarity_top_k = depth
            expected = QueryFusionRetriever(
                [vector.as_retriever(similarity_top_k=depth), bm25], llm=MockLLM(), mode=FUSION_MODES(mode), num_queries=1,
                use_async=False, similarity_top_k=depth, retriever_weights=[weight, 1.0 - weight],
            ).retrieve(QueryBundle(query_str=q, embedding=emb))
            got = fuse([dense.search(emb, depth), keywords.search(q, depth)], mode, [weight, 1.0 - weight], depth)
            assert [c.node_id for c in got] == [n.node.node_id for n in expected]
            assert [c.score for c in got] == pytest.approx([n.score for n in expected], abs=1e-12)
