"""Read a corpus path (folder or file) into raw records, with clear errors for unusable input."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from common.errors import PapersError
from ingest.formats import LaterWins, arxiv_url, parse_bibtex, wanted_category
from ingest.parse import RawPaper, parse_date, parse_text
from ingest.records import Skipped, Source
from ingest.repair import clean_text

SUPPORTED = (".txt", ".jsonl", ".json", ".bib")  # .json: JSON lines too, as the arXiv snapshot is named


def corpus_files(path: Path) -> list[Path]:
    """The files an ingest of ``path`` reads, in a stable order."""
    if not path.exists():
        raise PapersError(f"corpus path not found: {path} (pass --corpus with a folder or a .txt/.jsonl file)")
    if path.is_file():
        if path.suffix.lower() not in SUPPORTED:
            raise PapersError(f"unsupported corpus file {path}: expected a .txt page dump, a .jsonl (or JSON-lines .json) or a .bib file")
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED)
    if not files:
        raise PapersError(f"no .txt, .jsonl, .json or .bib files in {path} (the corpus folder is empty)")
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


_KIND = {str: "text", int: "a number", float: "a number", bool: "true/false", list: "a list", dict: "an object",
         type(None): "null"}


class BadField(ValueError):
    """A JSONL field whose type has no clear meaning; the record is skipped with this reason."""


def _kind(value: object) -> str:
    return _KIND.get(type(value), type(value).__name__)


def _text(obj: dict, name: str) -> str:
    value = obj.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadField(f"{name} must be text, got {_kind(value)}")
    return clean_text(value)


def _authors(value: object) -> list[str]:
    """A list of names, or one string of names separated by ';' (or ','): the string is split."""
    if value is None:
        return []
    if isinstance(value, str):  # "A; B", or "A, B and C" as the arXiv snapshot writes them
        value = value.split(";") if ";" in value else re.split(r",|\s+and\s+", value)
    if not isinstance(value, list):
        raise BadField(f"authors must be a list of names or a string, got {_kind(value)}")
    names = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            item = item["name"]  # {"name": ...} objects, as some exports write them
        if not isinstance(item, str):
            raise BadField(f"authors must hold names (text), got {_kind(item)}")
        name = clean_text(item)
        if name:
            names.append(name)
    return names


def _date(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a bare year
    if not isinstance(value, str):
        raise BadField(f"date must be text or a year, got {_kind(value)}")
    return clean_text(value)


def parse_record(obj: object, source: Source) -> RawPaper | Skipped:
    """One JSONL object as a paper, or a Skipped with the reason it cannot be one."""
    if not isinstance(obj, dict):
        return Skipped(source=source, reason=f"not a JSON object (got {_kind(obj)})")
    try:
        title, abstract = _text(obj, "title"), _text(obj, "abstract")
        missing = [name for name, value in (("title", title), ("abstract", abstract)) if not value]
        if missing:
            return Skipped(source=source, title=title or None, reason=f"no {' or '.join(missing)}")
        authors, url = _authors(obj.get("authors")), _text(obj, "url") or arxiv_url(obj.get("id"))
        date = _date(obj.get("date") if obj.get("date") is not None else obj.get("update_date"))
    except BadField as exc:
        title = obj.get("title")
        return Skipped(source=source, title=clean_text(title)[:200] if isinstance(title, str) else None, reason=str(exc))
    paper = RawPaper(title=title, source=source, abstract_parts=[abstract], authors=authors,
                     author_count=len(authors) or None, url=url or None)
    if date:
        paper.date = date
        parsed = parse_date(date)
        paper.year = parsed[1] if parsed else _leading_year(date)
    return paper


def parse_jsonl(text: str, file: str, categories: frozenset[str] = frozenset(),
                counts: Counter[str] | None = None) -> tuple[list[RawPaper], list[Skipped]]:
    """Records of ``{"title", "abstract", "authors"?, "date"?, "url"?}`` (or arXiv snapshot lines: ``id``,
    ``update_date``, ``categories``); bad lines are skipped with a reason. Lines outside ``categories`` are
    left out and a later line with an earlier line's ``id`` replaces it, both counted in ``counts``."""
    papers: list[RawPaper] = []
    skipped: list[Skipped] = []
    counts = Counter() if counts is None else counts
    later = LaterWins(counts)
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        source = Source(file=file, line=lineno)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(Skipped(source=source, reason=f"invalid JSON ({exc.msg})"))
            continue
        except RecursionError:
            skipped.append(Skipped(source=source, reason="JSON nested too deeply"))
            continue
        if isinstance(obj, dict) and not wanted_category(obj, categories):
            counts["filtered"] += 1
            continue
        got = parse_record(obj, source)
        if isinstance(got, Skipped):
            skipped.append(got)
        else:
            later.add(papers, obj.get("id"), got)
    return papers, skipped


def _leading_year(date: str) -> int | None:
    head = date[:4]
    return int(head) if head.isdigit() and 1900 <= int(head) <= 2100 else None


def load_corpus(files: Iterable[Path], root: Path, progress: bool = True, categories: frozenset[str] = frozenset(),
                counts: Counter[str] | None = None) -> tuple[list[RawPaper], list[Skipped]]:
    """Parse every file; source names are relative to the corpus root so moving the folder changes nothing."""
    files = list(files)
    papers: list[RawPaper] = []
    skipped: list[Skipped] = []
    for path in tqdm(files, desc="Parsing", unit="file", disable=not progress):
        name = path.name if root.is_file() else str(path.relative_to(root))
        try:
            text = read_text(path)
        except PapersError as exc:  # one unreadable file is a skipped record, not a failed ingest
            skipped.append(Skipped(source=Source(file=name, line=0), reason=str(exc).split(": ", 1)[-1]))
            continue
        suffix = path.suffix.lower()
        if suffix in (".jsonl", ".json"):
            found, bad = parse_jsonl(text, name, categories, counts)
        else:
            found, bad = (parse_bibtex if suffix == ".bib" else parse_text)(text, name)
        papers.extend(found)
        skipped.extend(bad)
    return papers, skipped
