"""The baseline a user would get from the llama-index quickstart: VectorStoreIndex over the same
abstracts with the same embedder and llama-index's default top-k, no BM25, no fusion, no filters."""

from __future__ import annotations

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.constants import DEFAULT_SIMILARITY_TOP_K

from assistant.api import corpus_papers, embed_model
from common.settings import Settings


class QuickstartBaseline:
    def __init__(self, settings: Settings) -> None:
        docs = [Document(text=f"{p.title}\n\n{p.abstract}", metadata={"title": p.title}) for p in corpus_papers(settings)]
        self.index = VectorStoreIndex.from_documents(docs, embed_model=embed_model(settings))
        self.retriever = self.index.as_retriever(similarity_top_k=DEFAULT_SIMILARITY_TOP_K)

    def ranked(self, question: str) -> list[str]:
        seen: list[str] = []
        for n in self.retriever.retrieve(question):
            if n.node.metadata["title"] not in seen:
                seen.append(n.node.metadata["title"])
        return seen
