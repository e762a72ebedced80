"""Read a corpus path (folder or file) into raw records, with clear errors for unusable input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from common.errors import PapersError
from ingest.parse import RawPaper, parse_date, parse_text
from ingest.records import Skipped, Source
from ingest.repair import clean_text

SUPPORTED = (".txt", ".jsonl")


def corpus_files(path: Path) -> list[Path]:
    """The files an ingest of ``path`` reads, in a stable order."""
    if not path.exists():
        raise PapersError(f"corpus path not found: {path} (pass --corpus with a folder or a .txt/.jsonl file)")
    if path.is_file():
        if path.suffix.lower() not in SUPPORTED:
            raise PapersError(f"unsupported corpus file {path}: expected a .txt page dump or a .jsonl file")
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED)
    if not files:
        raise PapersError(f"no .txt or .jsonl files in {path} (the corpus folder is empty)")
    return files


def read_text(path: Path) -> str:
    """Read a file as UTF-8, refusing binary files and other encodings with a one-line reason."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PapersError(f"cannot read {path}: {exc.strerror or exc}") from None
    if b"\x00" in data[:8192]:
        raise PapersError(f"cannot read {path}: it is a binary file, not text (remove it from the corpus folder)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PapersError(
            f"cannot read {path}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); convert it to UTF-8"
        ) from None


def parse_jsonl(text: str, file: str) -> tuple[list[RawPaper], list[Skipped]]:
    """Records of ``{"title", "abstract", "authors"?, "date"?, "url"?}``; bad lines are skipped with a reason."""
    papers: list[RawPaper] = []
    skipped: list[Skipped] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        source = Source(file=file, line=lineno)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(Skipped(source=source, reason=f"invalid JSON ({exc.msg})"))
            continue
        if not isinstance(obj, dict):
            skipped.append(Skipped(source=source, reason="not a JSON object"))
            continue
        title = clean_text(str(obj.get("title") or ""))
        abstract = clean_text(str(obj.get("abstract") or ""))
        missing = [name for name, value in (("title", title), ("abstract", abstract)) if not value]
        if missing:
            skipped.append(Skipped(source=source, title=title or None, reason=f"no {' or '.join(missing)}"))
            continue
        authors = obj.get("authors") or []
        if isinstance(authors, str):
            authors = [a for a in (s.strip() for s in authors.split(";" if ";" in authors else ",")) if a]
        paper = RawPaper(title=title, source=source, abstract_parts=[abstract])
        paper.authors = [clean_text(str(a)) for a in authors if str(a).strip()]
        paper.author_count = len(paper.authors) or None
        if obj.get("date"):
            paper.date = clean_text(str(obj["date"]))
            parsed = parse_date(paper.date)
            paper.year = parsed[1] if parsed else _leading_year(paper.date)
        paper.url = obj.get("url") or None
        papers.append(paper)
    return papers, skipped


def _leading_year(date: str) -> int | None:
    head = date[:4]
    return int(head) if head.isdigit() and 1900 <= int(head) <= 2100 else None


def load_corpus(files: Iterable[Path], root: Path, progress: bool = True) -> tuple[list[RawPaper], list[Skipped]]:
    """Parse every file; source names are relative to the corpus root so moving the folder changes nothing."""
    files = list(files)
    papers: list[RawPaper] = []
    skipped: list[Skipped] = []
    for path in tqdm(files, desc="Parsing", unit="file", disable=not progress):
        name = path.name if root.is_file() else str(path.relative_to(root))
        parser = parse_jsonl if path.suffix.lower() == ".jsonl" else parse_text
        found, bad = parser(read_text(path), name)
        papers.extend(found)
        skipped.extend(bad)
    return papers, skipped
