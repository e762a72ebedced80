"""Corpus formats beyond the project's own JSONL: the arXiv metadata snapshot and BibTeX exports.

The arXiv snapshot (JSON lines with ``id``, ``title``, ``abstract``, ``authors`` as one string,
``update_date``, ``categories``) is read by the JSONL parser as-is; this module adds what is specific to
it: the abstract-page link built from the id and the category filter ("a later line with the same id
replaces the earlier one" is ``ingest.corpus.Stage``'s). BibTeX files (Zotero and other reference managers) are parsed with
bibtexparser; entries without an abstract are skipped and listed.
"""

from __future__ import annotations

import re

from ingest.parse import RawPaper, parse_date
from ingest.records import Skipped, Source
from ingest.repair import clean_text

_ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")


def arxiv_url(record_id: object) -> str | None:
    """The abstract page of an arXiv id (``2401.01234``, ``hep-th/9901001``), else None."""
    if isinstance(record_id, str) and _ARXIV_ID.match(record_id.strip()):
        return f"https://arxiv.org/abs/{record_id.strip()}"
    return None


def wanted_category(obj: dict, categories: frozenset[str]) -> bool:
    """Whether a record passes the category filter (records without categories always do)."""
    have = obj.get("categories")
    if not categories or not isinstance(have, str) or not have.strip():
        return True
    return bool(categories & set(have.split()))


def _bib_text(value: str) -> str:
    return clean_text(re.sub(r"[{}]", "", value.replace("\\&", "&").replace("~", " ")))


def parse_bibtex(text: str, file: str) -> tuple[list[RawPaper], list[Skipped]]:
    """Entries with a title and an abstract as papers; the rest skipped with the reason."""
    import bibtexparser

    library = bibtexparser.parse_string(text)
    papers: list[RawPaper] = []
    skipped: list[Skipped] = [
        Skipped(source=Source(file=file, line=block.start_line + 1), reason="BibTeX entry that cannot be parsed")
        for block in library.failed_blocks
    ]
    for entry in library.entries:
        fields = {k.lower(): _bib_text(str(f.value)) for k, f in entry.fields_dict.items()}
        source = Source(file=file, line=entry.start_line + 1)
        title, abstract = fields.get("title", ""), fields.get("abstract", "")
        if not title or not abstract:
            missing = " or ".join(n for n, v in (("title", title), ("abstract", abstract)) if not v)
            skipped.append(Skipped(source=source, title=title or None, reason=f"BibTeX entry {entry.key} has no {missing}"))
            continue
        authors = [clean_text(" ".join(reversed(a.split(",", 1))) if "," in a else a)
                   for a in re.split(r"\s+and\s+", fields.get("author", "")) if a.strip()]
        url = fields.get("url") or (f"https://doi.org/{fields['doi']}" if fields.get("doi") else None) \
            or arxiv_url(fields.get("eprint"))
        paper = RawPaper(title=title, source=source, abstract_parts=[abstract], authors=authors,
                         author_count=len(authors) or None, url=url)
        date = fields.get("date") or " ".join(x for x in (fields.get("month", ""), fields.get("year", "")) if x)
        if date:
            paper.date = date
            parsed = parse_date(date)
            year = fields.get("year", "")[:4]
            paper.year = parsed[1] if parsed else int(year) if year.isdigit() else None
        papers.append(paper)
    return papers, skipped
