"""The reading view's text: the document cut into spans at every anchor boundary.

Each span knows the claims, glosses, editorial statements and sentence status that
cover it, so the template can mark the words without nesting overlapping quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from kg.site.model import Claim, Document, Section


@dataclass
class Span:
    start: int
    end: int
    text: str
    claims: list[Claim] = field(default_factory=list)
    gloss: dict[str, object] | None = None
    editorial: dict[str, object] | None = None
    sentence: str = ""  # "", "no-act" or "uncovered"
    reason: str = ""
    opens: list[Claim] = field(default_factory=list)  # claims whose first anchor starts here
    sentence_opens: bool = False
    anchors: list[str] = field(default_factory=list)  # ids of mention anchors starting here

    @property
    def main(self) -> Claim | None:
        """The claim a highlight opens: the one with the shortest quote (innermost)."""
        if not self.claims:
            return None
        return min(self.claims, key=lambda c: (sum(a.end - a.start for a in c.anchors), c.id))


def spans(doc: Document, section: Section) -> list[Span]:
    cuts = {section.start, section.end}
    for claim in doc.claims:
        for a in claim.anchors:
            cuts.update((a.start, a.end))
    for item in (*doc.glosses, *doc.editorial):
        anchor = item["anchor"]
        cuts.update((anchor.start, anchor.end))  # type: ignore[attr-defined]
    for sentence in doc.sentences:
        if sentence.status != "covered":
            cuts.update((sentence.start, sentence.end))
    for start, _end, _ in doc.mentions:
        cuts.add(start)
    points = sorted(c for c in cuts if section.start <= c <= section.end)
    result = []
    for start, end in pairwise(points):
        if end <= start:
            continue
        span = Span(start, end, doc.text[start:end])
        span.claims = [c for c in doc.claims
                       if any(a.start <= start and end <= a.end for a in c.anchors)]
        span.opens = [c for c in doc.claims if c.anchors[0].start == start]
        for gloss in doc.glosses:
            anchor = gloss["anchor"]
            if anchor.start <= start and end <= anchor.end:  # type: ignore[attr-defined]
                span.gloss = gloss
        for item in doc.editorial:
            anchor = item["anchor"]
            if anchor.start <= start and end <= anchor.end:  # type: ignore[attr-defined]
                span.editorial = item
        for sentence in doc.sentences:
            if sentence.status != "covered" and sentence.start <= start and end <= sentence.end:
                span.sentence, span.reason = sentence.status, sentence.reason
                span.sentence_opens = sentence.start == start
        span.anchors = sorted({f"m-{s}-{e}" for s, e, _ in doc.mentions if s == start})
        result.append(span)
    return result
