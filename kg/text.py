"""Source texts: checksums, finding quotes, and splitting sentences.

Offsets are Python string indices, that is Unicode code points, the same unit as
SPARQL's ``SUBSTR`` and W3C Web Annotation's ``TextPositionSelector``; ``end`` is
exclusive.

>>> text = "Soong met Stalin. Stalin received Soong."
>>> find_all(text, "Soong")
[0, 34]
>>> find_all(text, "Soon")
[]
>>> sentences(text, 0, len(text))
[(0, 17), (18, 40)]
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

# Abbreviations after which a full stop does not end a sentence.
ABBREVIATIONS = ("Mr.", "Mrs.", "Dr.", "St.", "No.", "Gen.", "Adm.", "Col.", "Capt.",
                 "Lt.", "Sr.", "Jr.", "vol.", "p.", "pp.", "viz.", "cf.", "i.e.", "e.g.")


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, as 64 lower-case hex digits."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def find_all(text: str, quote: str, start: int = 0, end: int | None = None,
             whole_word: bool = True) -> list[int]:
    """Start offsets of every whole-word occurrence of ``quote`` in ``text[start:end]``.

    A quote that begins (ends) with a letter or digit must not be preceded
    (followed) by one, so "me" is not found inside "meeting". With
    ``whole_word=False`` any occurrence counts (for a footnote number fused to a word).
    """
    stop = len(text) if end is None else end
    found = []
    position = text.find(quote, start, stop)
    while position != -1:
        after = position + len(quote)
        ok_left = not whole_word or not (
            _is_word(quote[0]) and position > 0 and _is_word(text[position - 1]))
        ok_right = not whole_word or not (
            _is_word(quote[-1]) and after < len(text) and _is_word(text[after]))
        if ok_left and ok_right:
            found.append(position)
        position = text.find(quote, position + 1, stop)
    return found


@dataclass(frozen=True)
class Span:
    """A half-open range of character offsets in one text."""

    start: int
    end: int

    def within(self, other: Span) -> bool:
        return other.start <= self.start and self.end <= other.end

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


class QuoteError(Exception):
    """A quote could not be placed; ``hint`` says what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def context(text: str, start: int, end: int, width: int = 30) -> str:
    """A short one-line excerpt around a span, for messages."""
    left = text[max(0, start - width):start]
    right = text[end:end + width]
    snippet = f"...{left}[{text[start:end]}]{right}..."
    return " ".join(snippet.split())


def nearest(text: str, quote: str) -> str | None:
    """The passage of ``text`` most like ``quote``, or None if nothing is close."""
    if not quote.strip():
        return None
    size = len(quote)
    starts = [0] + [m.end() for m in re.finditer(r"\s+", text)]
    best_ratio, best = 0.0, None
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(quote)
    for begin in starts:
        window = text[begin:begin + size]
        matcher.set_seq1(window)
        if matcher.real_quick_ratio() <= best_ratio or matcher.quick_ratio() <= best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio:
            best_ratio, best = ratio, window
    if best is None or best_ratio < 0.6:
        return None
    begin = text.find(best)
    stop = begin + len(best)
    while stop < len(text) and _is_word(text[stop]):
        stop += 1  # do not end the hint in the middle of a word
    return text[begin:stop]


def locate(text: str, quote: str, *, occurrence: int | None = None,
           within: str | None = None, region: Span | None = None,
           whole_word: bool = True) -> Span:
    """Place ``quote`` in ``text`` and return its span.

    ``within`` narrows the search to a longer passage that must itself be
    unique; ``occurrence`` (1-based) picks one of several matches; ``region``
    limits the search to part of the text.
    """
    if not isinstance(quote, str) or not quote:
        raise QuoteError("the quote is empty", "copy the exact words from the text")
    lo, hi = (region.start, region.end) if region else (0, len(text))
    if within is not None:
        outer = locate(text, within, region=region)
        lo, hi = outer.start, outer.end
    hits = find_all(text, quote, lo, hi, whole_word)
    hits = [h for h in hits if h + len(quote) <= hi]
    if not hits:
        close = nearest(text[lo:hi], quote)
        hint = (f'the nearest passage in the text is "{close}"' if close
                else "copy the words exactly from the text, including punctuation")
        if quote.strip() != quote:
            hint += "; the quote starts or ends with a space"
        raise QuoteError(f'quote not found in the text: "{quote}"', hint)
    if occurrence is not None:
        if not 1 <= occurrence <= len(hits):
            raise QuoteError(f'occurrence {occurrence} of "{quote}" does not exist '
                             f"(found {len(hits)})", f"use a number from 1 to {len(hits)}")
        begin = hits[occurrence - 1]
        return Span(begin, begin + len(quote))
    if len(hits) > 1:
        places = "; ".join(f"{n}: {context(text, h, h + len(quote))}"
                           for n, h in enumerate(hits, 1))
        raise QuoteError(f'ambiguous quote: "{quote}" occurs {len(hits)} times ({places})',
                         "add `occurrence: N` or `in: <longer unique words around it>`, "
                         "or quote more words")
    return Span(hits[0], hits[0] + len(quote))


_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s+)")


def paragraphs(text: str, start: int, end: int) -> list[Span]:
    """Paragraphs (separated by blank lines) of ``text[start:end]``, trimmed."""
    spans = []
    position = start
    for match in re.finditer(r"\n[ \t]*\n", text[start:end]):
        spans.append(Span(position, start + match.start()))
        position = start + match.end()
    spans.append(Span(position, end))
    result = []
    for span in spans:
        chunk = text[span.start:span.end]
        left = len(chunk) - len(chunk.lstrip())
        right = len(chunk.rstrip())
        if right > left:
            result.append(Span(span.start + left, span.start + right))
    return result


def sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]``: paragraphs split at . ! or ? before a space.

    A full stop after one of :data:`ABBREVIATIONS` or a single capital letter
    (an initial, as in "T. V. Soong") does not end a sentence.
    """
    result: list[tuple[int, int]] = []
    for para in paragraphs(text, start, end):
        begin = para.start
        for match in _SENTENCE_END.finditer(text, para.start, para.end):
            stop = match.end()
            word = text[begin:stop].split()[-1] if text[begin:stop].split() else ""
            if word in ABBREVIATIONS or re.fullmatch(r"[A-Z]\.", word):
                continue
            result.append((begin, stop))
            rest = text[stop:para.end]
            begin = stop + (len(rest) - len(rest.lstrip()))
        if begin < para.end:
            result.append((begin, para.end))
    return result
