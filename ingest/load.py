"""Read a corpus path (folder or file) into raw records, with clear errors for unusable input."""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

from tqdm import tqdm

from common.errors import PapersError
from ingest.formats import arxiv_url, parse_bibtex, wanted_category
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
    return _decode(path, keep=True)


BLOCK = 1 << 20


def check_text(path: Path) -> None:
    """Refuse a file that cannot be read, is binary or is not UTF-8, with a one-line reason (read a block at a
    time: a large file is never held whole)."""
    _decode(path, keep=False)


def _decode(path: Path, keep: bool) -> str:
    """Decode ``path`` as UTF-8 a block at a time (a leading BOM dropped), raising the one-line reasons of
    ``check_text``; the text when ``keep``, else "" (nothing is held)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    parts: list[str] = []
    offset = 0
    try:
        with path.open("rb") as fh:
            while block := fh.read(BLOCK):
                if offset == 0 and b"\x00" in block[:8192]:
                    raise PapersError(f"cannot read {path}: it is a binary file, not text (remove it from the corpus folder)")
                try:
                    text = decoder.decode(block)
                except UnicodeDecodeError as exc:
                    at = max(exc.start, 0)
                    raise PapersError(f"cannot read {path}: not UTF-8 (byte 0x{block[at]:02x} at offset {offset + at}); "
                                      "convert it to UTF-8") from None
                if keep:
                    parts.append(text)
                offset += len(block)
            decoder.decode(b"", final=True)
    except OSError as exc:
        raise PapersError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise PapersError(f"cannot read {path}: not UTF-8 (incomplete character at offset {offset - 1 + exc.start}); "
                          "convert it to UTF-8") from None
    return "".join(parts).removeprefix("\ufeff")


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


def parse_line(line: str, source: Source, categories: frozenset[str], counts: Counter[str]) -> tuple[object, RawPaper] | Skipped | None:
    """One JSONL line: (its record ``id``, the paper), a Skipped with the reason, or None for a blank line or
    one outside ``categories`` (counted in ``counts["filtered"]``)."""
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return Skipped(source=source, reason=f"invalid JSON ({exc.msg})")
    except RecursionError:
        return Skipped(source=source, reason="JSON nested too deeply")
    if isinstance(obj, dict) and not wanted_category(obj, categories):
        counts["filtered"] += 1
        return None
    got = parse_record(obj, source)
    return got if isinstance(got, Skipped) else (obj.get("id"), got)


def jsonl_lines(path: Path) -> Iterator[str]:
    """The lines of a JSONL file, read a block at a time; the file is checked whole first (binary, not UTF-8:
    a PapersError naming the problem), so a bad file adds no record."""
    check_text(path)
    with path.open(encoding="utf-8-sig", newline=None) as fh:
        yield from fh


def _leading_year(date: str) -> int | None:
    head = date[:4]
    return int(head) if head.isdigit() and 1900 <= int(head) <= 2100 else None


def stream_corpus(files: Iterable[Path], root: Path, stage: Any, progress: bool = True,
                  categories: frozenset[str] = frozenset()) -> None:
    """Parse every file into ``stage`` (``ingest.corpus.Stage``), a record at a time; source names are
    relative to the corpus root so moving the folder changes nothing."""
    files = list(files)
    for path in tqdm(files, desc="Parsing", unit="file", disable=not progress):
        name = path.name if root.is_file() else str(path.relative_to(root))
        stage.begin_file()
        suffix = path.suffix.lower()
        try:
            if suffix in (".jsonl", ".json"):  # JSON lines (the arXiv snapshot is downloaded as .json)
                for lineno, line in enumerate(jsonl_lines(path), start=1):
                    got = parse_line(line, Source(file=name, line=lineno), categories, stage.counts)
                    if isinstance(got, Skipped):
                        stage.skipped.append(got)
                    elif got is not None:
                        stage.add(got[1], got[0])
                continue
            text = read_text(path)
        except PapersError as exc:  # one unreadable file is a skipped record, not a failed ingest
            stage.skipped.append(Skipped(source=Source(file=name, line=0), reason=str(exc).split(": ", 1)[-1]))
            continue
        found, bad = (parse_bibtex if suffix == ".bib" else parse_text)(text, name)
        for paper in found:
            stage.add(paper)
        stage.skipped.extend(bad)
