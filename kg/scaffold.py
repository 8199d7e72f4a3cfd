"""``kg new``: start a new document's files from a text file.

Copies the text byte for byte to ``data/text/<id>.txt`` and writes a curation
skeleton ``data/curation/<id>.yaml`` with the checksum, the document fields that
can be read from a capture header (``Title:``, ``Date:``, ``URL:`` lines before
``---``), a transcript layer, and the transcript's sentences listed as a to-do
comment. Whatever cannot be read from the text is left as ``TODO``, so that
``kg build`` names each field still to fill, with its line.

Nothing is overwritten: an existing text or curation file with that id is an error.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputError, UsageError
from kg.text import find_all, sentences

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"), 1)}
_DATE = re.compile(r"\b(" + "|".join(MONTHS) + r")\s+(\d{1,2}),\s*(\d{4})\b", re.IGNORECASE)


@dataclass
class Header:
    """What a capture header says, and where the document's own text starts."""

    title: str | None = None
    date_text: str | None = None
    date: datetime.date | None = None
    url: str | None = None
    body_start: int = 0
    first_line: str | None = None
    last_line: str | None = None


def slug(name: str) -> str:
    """A document id from a file name: lower case, digits and hyphens.

    >>> slug("1945-07-07_Harriman telegram.txt")
    '1945-07-07-harriman-telegram'
    """
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")


def parse_date(text: str) -> tuple[str, datetime.date] | None:
    """The first date in ``text`` ("July 7, 1945" or "1945-07-07"), as written and as a date.

    >>> parse_date("Date: February 11, 1945")
    ('February 11, 1945', datetime.date(1945, 2, 11))
    >>> parse_date("Date: 1945-07-12")
    ('1945-07-12', datetime.date(1945, 7, 12))
    """
    iso = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", text)
    match = _DATE.search(text)
    if iso and (not match or iso.start() < match.start()):
        try:
            return iso.group(0), datetime.date.fromisoformat(iso.group(0))
        except ValueError:
            return None
    if not match:
        return None
    try:
        value = datetime.date(int(match.group(3)), MONTHS[match.group(1).lower()],
                              int(match.group(2)))
    except ValueError:
        return None
    return match.group(0), value


def read_header(text: str) -> Header:
    """Title, date and URL lines of a capture header ending in a ``---`` line."""
    header = Header()
    marker = re.search(r"^---[ \t]*$", text, re.MULTILINE)
    if not marker:
        return header
    for line in text[:marker.start()].splitlines():
        key, _, value = line.partition(":")
        if key in ("Title", "Date", "URL", "Archive/Source", "Source") and value.strip():
            header.first_line = header.first_line or line.strip()
            header.last_line = line.strip()
        value = value.strip()
        if key == "Title" and value:
            header.title = value
        elif key == "Date" and value:
            found = parse_date(value)
            if found:
                header.date_text, header.date = found
        elif key == "URL" and value:
            header.url = value
    rest = text[marker.end():]
    header.body_start = marker.end() + (len(rest) - len(rest.lstrip()))
    return header


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _first_words(text: str, start: int, end: int, words: int = 4) -> str:
    """The first few words from ``start``, enough to anchor a layer bound."""
    chunk = text[start:end].split("\n", 1)[0]
    return " ".join(chunk.split()[:words])


def curation_skeleton(doc_id: str, text_name: str, text: str, digest: str) -> str:
    header = read_header(text)
    body_end = len(text.rstrip())
    start_words = _first_words(text, header.body_start, body_end)
    from_spec = _q(start_words) if start_words else "TODO first words"
    if start_words:
        starts = find_all(text, start_words)
        if len(starts) > 1 and header.body_start in starts:
            from_spec = (f"{{quote: {_q(start_words)}, "
                         f"occurrence: {starts.index(header.body_start) + 1}}}")
    lines = [
        f"# Curation of {doc_id}: written by `kg new`; fill in every TODO, then run",
        "# `kg build` and fix what it reports (file, line and a hint for each problem).",
        "# The format, every field and a worked example: docs/curation-guide.md.",
        "",
        "document:",
        f"  id: {doc_id}",
        f"  text: ../text/{text_name}",
        f"  sha256: {digest}",
        "  title:",
        f"    value: {_q(header.title) if header.title else 'TODO the title'}",
        f"    quote: {_q(header.title) if header.title else 'TODO words of the text that give it'}",
        "  date:",
        f"    value: {header.date.isoformat() if header.date else 'TODO YYYY-MM-DD'}",
        f"    quote: {_q(header.date_text) if header.date_text else 'TODO the date as written'}",
        "  # A letter, cable or telegram has a sender and recipients (registry keys,",
        "  # data/entities.yaml); an agreement or treaty has `signatories:` instead.",
        "  sender:",
        "    value: TODO",
        "    quote: TODO",
        "  recipients:",
        "    value: [TODO]",
        "    quote: TODO",
    ]
    if header.url:
        lines += ["  url:", f"    value: {header.url}", f"    quote: {_q(header.url)}"]
    lines += [
        "  language: en",
        "  # negotiation: sino-soviet-negotiations-1945   # the negotiation its claims belong to",
        "",
        "reasons: {}",
        "",
        "# Who wrote which words. Add catalogue, summary or notes layers for an archive's",
        "# or an edition's own words (a capture header, footnotes) so no claim quotes them",
        "# as the document's.",
        "layers:",
    ]
    if header.first_line and header.last_line:
        lines += [
            "  capture:",
            "    kind: catalogue",
            "    label: title, date and source of the document as given by the capture",
            "    author: TODO  # the archive or edition whose page was captured",
            f"    from: {_q(' '.join(header.first_line.split()[:3]))}",
            f"    to: {_q(' '.join(header.last_line.split()[-3:]))}",
        ]
    lines += [
        "  transcript:",
        "    label: TODO what the transcript is",
        "    author: TODO",
        f"    from: {from_spec}",
        "    to: END",
        "",
        "mentions: []",
        "",
        "defaults:",
        "  speaker: TODO  # who asserts the claims unless a claim says otherwise",
        "  heard_by: null",
        "",
        "# The claims: what the document reports each party did or said. At least one is",
        "# required (docs/curation-guide.md, \"Claims\").",
        "claims: []",
        "",
    ]
    spans = sentences(text, header.body_start, body_end)
    if spans:
        lines.append("# The transcript's sentences, to curate as claims (or list under")
        lines.append("# `no_claim:` with a reason). `kg build` reports the ones not yet covered.")
        for number, (start, end) in enumerate(spans, 1):
            sentence = " ".join(text[start:end].split())
            lines.append(f"#  {number:>3}. [{start}:{end}] {sentence}")
        lines.append("")
    return "\n".join(lines)


def _write_bytes_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def new_document(source: Path, data_dir: Path, doc_id: str | None = None) -> tuple[Path, Path]:
    """Create ``text/<id>.txt`` and ``curation/<id>.yaml`` under ``data_dir``."""
    doc_id = doc_id or slug(source.name)
    if not ID_PATTERN.match(doc_id):
        raise UsageError(f"document id {doc_id!r} is not lower case letters, digits and hyphens",
                         hint="pass --id, e.g. --id 1945-08-14-treaty-of-friendship")
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror}",
                         hint="give the path of a UTF-8 text file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source} is not UTF-8 (byte {exc.start})",
                         hint="convert it, e.g. iconv -f latin1 -t utf-8, and keep a note "
                              "of the conversion in data/README.md") from None
    if not text.strip():
        raise InputError(f"{source} is empty", hint="give the document's text")
    text_path = data_dir / "text" / f"{doc_id}.txt"
    curation_path = data_dir / "curation" / f"{doc_id}.yaml"
    for path in (text_path, curation_path):
        if path.exists():
            raise UsageError(f"{path} already exists",
                             hint="choose another --id, or remove the file if it is yours "
                                  "to replace")
    digest = hashlib.sha256(raw).hexdigest()
    from kg.project import schema_comment

    # First line: the packaged JSON Schema, for editors (yaml-language-server).
    skeleton = (schema_comment("curation", curation_path) + "\n"
                + curation_skeleton(doc_id, text_path.name, text, digest))
    _write_bytes_atomically(text_path, raw)
    _write_bytes_atomically(curation_path, skeleton.encode("utf-8"))
    return text_path, curation_path
