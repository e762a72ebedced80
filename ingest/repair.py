"""Text repair: undo UTF-8 read as the Thai codepage (cp874), and tidy whitespace.

The scraper decoded UTF-8 bytes as cp874, so ``ł`` (bytes C5 82) became ``ล`` plus a byte cp874 has no
character for (dropped), and ``ä`` (C3 A4) became ``รค``. The repair is general: inside a Latin word,
re-encode each run of Thai characters as cp874 bytes and decode them as UTF-8. Where a continuation byte
was dropped, the only possible bytes are those cp874 cannot show; of the letters they would make we take
the first one whose case fits its place (lower case after a lower-case letter, else upper case): for
``Micha?`` that is ``ł``. That last step is a best guess from the evidence left: ``ř`` (C5 99) lost the
same way also comes back as ``ł``, so only names whose bytes all survived are repaired with certainty.
"""

from __future__ import annotations

import re
import unicodedata

# Thai letters plus the few non-Thai characters cp874 has in 0x80-0x9F (e.g. 0x85 "…" from "Å" = C3 85).
_CP874_EXTRA = "\u20ac\u2026\u2018\u2019\u201c\u201d\u2022\u2013\u2014"
_THAI_RUN = re.compile(rf"[\u0e00-\u0e7f{_CP874_EXTRA}]+")
_LATIN_WORD = re.compile(rf"[A-Za-z\u00c0-\u024f\u0e00-\u0e7f{_CP874_EXTRA}'\-]+")


def _undefined_in_cp874() -> list[int]:
    missing = []
    for b in range(0x80, 0xC0):
        try:
            bytes([b]).decode("cp874")
        except UnicodeDecodeError:
            missing.append(b)
    return missing


_LOST_CONTINUATIONS = _undefined_in_cp874()


def _decode_run(run: str, before: str) -> str | None:
    """Return the repaired text for one Thai run, or None when it is not mojibake."""
    try:
        raw = run.encode("cp874")
    except UnicodeEncodeError:
        return None
    try:
        fixed = raw.decode("utf-8")
    except UnicodeDecodeError:
        fixed = _decode_with_lost_bytes(raw, before)
        if fixed is None:
            return None
    if any("\u0e00" <= ch <= "\u0e7f" for ch in fixed) or not all(ch.isalpha() for ch in fixed):
        return None
    return fixed


def _decode_with_lost_bytes(raw: bytes, before: str) -> str | None:
    """Decode UTF-8 whose continuation bytes in cp874's holes were dropped by the scraper."""
    out: list[str] = []
    i = 0
    prev = before
    while i < len(raw):
        lead = raw[i]
        need = 1 if 0xC2 <= lead <= 0xDF else 2 if 0xE0 <= lead <= 0xEF else 0
        if need == 0:
            return None
        tail = raw[i + 1 : i + 1 + need]
        if len(tail) == need and all(0x80 <= b <= 0xBF for b in tail):
            out.append((bytes([lead]) + tail).decode("utf-8", errors="strict"))
            i += 1 + need
            continue
        if need != 1:
            return None
        guess = _guess_lost(lead, prev)
        if guess is None:
            return None
        out.append(guess)
        prev = guess
        i += 1
    return "".join(out)


def _guess_lost(lead: int, prev: str) -> str | None:
    want_lower = prev.islower()
    for cont in _LOST_CONTINUATIONS:
        ch = bytes([lead, cont]).decode("utf-8", errors="ignore")
        if ch and ch.isalpha() and ch.islower() == want_lower:
            return ch
    return None


def repair_mojibake(text: str) -> str:
    """Repair cp874 mojibake inside Latin words; genuine Thai text is left alone."""
    if not re.search(r"[\u0e00-\u0e7f]", text):
        return text

    def fix_word(match: re.Match[str]) -> str:
        word = match.group(0)
        if not re.search(r"[A-Za-z]", word):
            return word  # a Thai word, not mojibake

        def fix_run(run: re.Match[str]) -> str:
            before = word[run.start() - 1] if run.start() > 0 else ""
            fixed = _decode_run(run.group(0), before)
            return fixed if fixed is not None else run.group(0)

        return _THAI_RUN.sub(fix_run, word)

    return _LATIN_WORD.sub(fix_word, text)


_HTML_TAGS = (
    "a abbr address article aside audio b base bdi bdo big blockquote body br button canvas caption center cite code "
    "col colgroup data dd del details dfn dialog div dl dt em embed fieldset figcaption figure font footer form frame "
    "frameset h1 h2 h3 h4 h5 h6 head header hr html i iframe img input ins kbd label legend li link main mark meta "
    "meter nav noscript object ol optgroup option output p param picture pre q s samp script section select small "
    "source span strike strong style sub summary sup svg table tbody td template textarea tfoot th thead time tr "
    "track tt u ul var video wbr"
).split()
_HIDDEN = re.compile(r"<(script|style|template)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(rf"</?({'|'.join(_HTML_TAGS)})(?:\s[^<>]*)?/?>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_INLINE = set("a abbr b bdi bdo big cite code data del dfn em font i ins kbd mark q s samp small span strike strong sub "
              "sup time tt u var wbr".split())


def strip_html(text: str) -> str:
    """Remove HTML tags (known element names only, so ``a < b > c`` survives) and keep the text between
    them; script, style and template bodies are dropped with their tags."""
    if "<" not in text:
        return text
    def drop(tag: re.Match[str]) -> str:
        return "" if (tag.group(1) or "").lower() in _INLINE else " "  # x<sup>2</sup> stays x2

    return _TAG.sub(drop, _HIDDEN.sub(" ", text))


def clean_text(text: str) -> str:
    """Strip HTML tags, normalise Unicode (NFC), repair mojibake and collapse runs of whitespace."""
    if text.isascii() and "<" not in text:  # nothing to strip, repair or normalise (most records): only spaces
        return " ".join(text.split())
    text = unicodedata.normalize("NFC", repair_mojibake(strip_html(text)))
    return re.sub(r"\s+", " ", text).strip()
