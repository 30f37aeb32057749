"""Generated catalogue rows for the benchmark, derived from the real data.gouv.fr export.

`ExportSample.read(path)` reads the real export once and keeps what the generator needs: its header, a
sample of whole rows used as templates (real organisations, zones, licences, dates, archive status,
metrics), the words of every title, the tags with their frequencies and paragraphs of descriptions.

`write_generated_export(sample, count, path)` then writes `count` new rows in the export's own format
(same header, `;`, every field quoted), each with a fresh 24-hex id: a title recombined from two real
titles, the template's organisation, its tags plus a few real ones, a description made of real
paragraphs. The file is imported by the real service (`import_catalogue`), like the real export, so
the full-text index is maintained by the same code path.
"""

from __future__ import annotations

import csv
import gzip
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

csv.field_size_limit(16 * 1024 * 1024)

TEMPLATE_ROWS = 6000
DESCRIPTION_PARAGRAPHS = 12000
MAX_TITLE_WORDS = 20
MAX_DESCRIPTION_CHARS = 4000
_GEOIDE_UUID = re.compile(r"(fr-120066022-jdd-)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _open_text(path: Path):
    with Path(path).open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    if gzipped:
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return Path(path).open(encoding="utf-8-sig", newline="")


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", text).strip("-")


@dataclass
class ExportSample:
    header: list[str]
    templates: list[dict[str, str]] = field(default_factory=list)
    titles: list[list[str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    tag_weights: list[int] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    slugs: set[str] = field(default_factory=set)
    rows: int = 0

    @classmethod
    def read(cls, path: Path, seed: int = 20260116) -> ExportSample:
        """One pass over the export; the templates and paragraphs are reservoir samples."""
        rng = random.Random(seed)
        with _open_text(path) as handle:
            reader = csv.reader(handle, delimiter=";", quotechar='"')
            header = next(reader)
            sample = cls(header=header)
            tag_counts: Counter[str] = Counter()
            seen_paragraphs = 0
            for values in reader:
                if len(values) != len(header):
                    continue
                row = dict(zip(header, values, strict=True))
                sample.rows += 1
                sample.ids.add(row["id"].lower())
                sample.slugs.add(row["slug"])
                words = row["title"].split()
                if words:
                    sample.titles.append(words)
                tag_counts.update(t.strip() for t in row["tags"].split(",") if t.strip())
                if len(sample.templates) < TEMPLATE_ROWS:
                    sample.templates.append(row)
                else:
                    slot = rng.randrange(sample.rows)
                    if slot < TEMPLATE_ROWS:
                        sample.templates[slot] = row
                for paragraph in row["description"].split("\n\n"):
                    paragraph = paragraph.strip()
                    if len(paragraph) < 40:
                        continue
                    seen_paragraphs += 1
                    if len(sample.paragraphs) < DESCRIPTION_PARAGRAPHS:
                        sample.paragraphs.append(paragraph)
                    else:
                        slot = rng.randrange(seen_paragraphs)
                        if slot < DESCRIPTION_PARAGRAPHS:
                            sample.paragraphs[slot] = paragraph
        sample.tags = list(tag_counts)
        sample.tag_weights = list(tag_counts.values())
        return sample


class RowGenerator:
    """Plausible export rows, reproducible for a given seed."""

    def __init__(self, sample: ExportSample, seed: int = 60000):
        self.sample = sample
        self.rng = random.Random(seed)
        self.ids = set(sample.ids)
        self.slugs = set(sample.slugs)

    def _fresh_id(self) -> str:
        while True:
            candidate = f"{self.rng.getrandbits(96):024x}"
            if candidate not in self.ids:
                self.ids.add(candidate)
                return candidate

    def _title(self) -> str:
        """The beginning of one real title followed by the end of another."""
        rng = self.rng
        first, second = rng.choice(self.sample.titles), rng.choice(self.sample.titles)
        head = first[: rng.randint(1, max(1, len(first) - 1))]
        tail = second[rng.randint(min(1, len(second) - 1), len(second) - 1) :]
        words = (head + tail)[:MAX_TITLE_WORDS]
        title = " ".join(words)
        return title[:1].upper() + title[1:]

    def _slug(self, title: str, catalogue_id: str) -> str:
        slug = slugify(title)[:200] or catalogue_id
        if slug in self.slugs:
            slug = f"{slug}-{catalogue_id[-6:]}"
        self.slugs.add(slug)
        return slug

    def _description(self) -> str:
        rng = self.rng
        paragraphs = [rng.choice(self.sample.paragraphs) for _ in range(rng.randint(1, 4))]
        return "\n\n".join(paragraphs)[:MAX_DESCRIPTION_CHARS]

    def _tags(self, template: dict[str, str]) -> str:
        tags = [t.strip() for t in template["tags"].split(",") if t.strip()]
        extra = self.rng.choices(self.sample.tags, weights=self.sample.tag_weights, k=self.rng.randint(0, 3))
        for tag in extra:
            if tag not in tags:
                tags.append(tag)
        return ",".join(tags)

    def _shift(self, value: str, days: int) -> str:
        if not value:
            return value
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return (moment - timedelta(days=days)).isoformat()

    def row(self) -> dict[str, str]:
        rng = self.rng
        template = rng.choice(self.sample.templates)
        row = dict(template)
        catalogue_id = self._fresh_id()
        title = self._title()
        slug = self._slug(title, catalogue_id)
        description = self._description()
        row["id"] = catalogue_id
        row["title"] = title
        row["slug"] = slug
        row["acronym"] = ""
        row["url"] = f"https://www.data.gouv.fr/datasets/{slug}"
        row["description"] = description
        row["description_short"] = description[:300] if template.get("description_short") else ""
        row["tags"] = self._tags(template)
        days = rng.randint(0, 900)
        for column in ("created_at", "last_modified", "harvest.created_at", "harvest.modified_at"):
            if column in row:
                row[column] = self._shift(row[column], days)
        remote_url = row.get("harvest.remote_url", "")
        if remote_url and _GEOIDE_UUID.search(remote_url):
            uuid = f"{rng.getrandbits(128):032x}"
            fresh = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
            row["harvest.remote_url"] = _GEOIDE_UUID.sub(lambda found: found.group(1) + fresh, remote_url)
        return row


def write_generated_export(sample: ExportSample, count: int, path: Path, seed: int = 60000) -> Path:
    """Write `count` generated rows as a data.gouv.fr export-dataset CSV (plain text)."""
    generator = RowGenerator(sample, seed)
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", quotechar='"', quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(sample.header)
        for _ in range(count):
            row = generator.row()
            writer.writerow([row.get(column, "") for column in sample.header])
    return Path(path)
