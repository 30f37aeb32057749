"""Groups of similar requests, kept as the threads change rather than recomputed for every report.

A data request or a missing-data report is about its own themes and those of its dataset (a thread with
none is in the group "no theme"). Within each theme, the threads are taken in the order they were received
(`created_at`, then id); each joins the group of an earlier thread with the same normalised title, or else,
among the groups whose first title shares enough word stems with its own (`shares_enough`), the one whose
first title scores best, and at least `SIMILARITY_THRESHOLD` (rapidfuzz token_set_ratio), against its own;
or else it starts a group. Comparing with a group's first title only, not with any member, keeps a chain of
near neighbours from merging unrelated requests.

One `DemandEntry` row per (thread, theme) keeps the thread's normalised title and the first thread of its
group (`leader_id`). The rows follow the threads: a flush that creates a request, changes its kind, title,
themes or dataset, or deletes it, updates them in the same transaction (`register`), and so does the
catalogue import when it changes a dataset's themes. A thread received after every other of its theme is
placed against the groups' first titles, as the threads arrive; any other change computes that theme again
from its first thread. `rebuild` computes every theme from scratch and `differences` says where the stored
rows differ from that (`reports verify`). A scope's groups are these groups restricted to the scope's
threads: those with two threads or more in it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from rapidfuzz import fuzz, process
from sqlalchemy import event
from sqlalchemy.orm import Session

from feedback.capitalisation.models import DemandEntry
from feedback.catalogue.models import Territory, dataset_theme
from feedback.catalogue.signals import dataset_themes_changed
from feedback.extensions import db
from feedback.search import normalise
from feedback.threads.models import Thread, ThreadKind, thread_theme

DEMAND_KINDS = (ThreadKind.DATA_REQUEST.value, ThreadKind.MISSING_DATA.value)

# Two requests are "similar" when their normalised titles (stop words and place names taken out) score at
# least this with rapidfuzz's token_set_ratio. 85 groups "Zones humides de la Nièvre" with "Inventaire des
# zones humides du Loiret" (both reduce to "zones humides": 100) or "Débit des cours d'eau" with "Débits des
# cours d'eau" (97), and keeps apart what shares only a word: "zones humides" / "zones inondables" (69),
# "débit des cours d'eau" / "qualité des cours d'eau" (75). Lower, such pairs start to merge; higher, plural
# and spelling variants stop grouping.
SIMILARITY_THRESHOLD = 85
# A title is compared only with the groups whose first title shares enough word stems with it (a stem: the
# first letters of a word): at least half of the stems of the shorter of the two. Below that, token_set_ratio
# stays far under the threshold (the words they share are too little of either title); the subset case (all
# of one title's words in the other, which token_set_ratio scores 100) is always kept.
STEM_LENGTH = 4

# Words that say nothing of what is wanted: French function words and the vocabulary of any request.
_STOP_WORDS = """
    a au aux avec ce ces cet cette d dans de des du en et est il ils j l la le les leur leurs m ma mes mon n ne
    nos notre on ou par pas pour qu que qui s sa se ses son sont sur t ta un une vos votre y
    acces besoin carte cartes cartographie cherche demande donnee donnees disponible disponibles fichier
    fichiers format formats information informations inventaire jeu jeux liste manquant manquante manquantes
    manquants merci recherche souhaite
    commune communes departement departemental departementale region regional regionale territoire
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[0-9a-z]+")


# Titles -----------------------------------------------------------------------------------------------------


def place_pattern(session=None) -> re.Pattern | None:
    """A pattern of every territory's name, normalised, longest first (to take them out of titles)."""
    session = session or db.session
    found = {" ".join(_WORD.findall(normalise(name))) for name in session.scalars(sa.select(Territory.name))}
    names = sorted((n for n in found if n), key=lambda n: (-len(n), n))
    if not names:
        return None
    return re.compile(r"(?<![0-9a-z])(?:" + "|".join(re.escape(n) for n in names) + r")(?![0-9a-z])")


_places: dict[tuple, re.Pattern | None] = {}


def current_place_pattern() -> re.Pattern | None:
    """`place_pattern()`, compiled again only when the territories change (their count, codes or names)."""
    key = tuple(
        db.session.execute(
            sa.select(sa.func.count(), sa.func.max(Territory.code), sa.func.sum(sa.func.length(Territory.name)))
        ).one()
    )
    if key not in _places:
        _places.clear()
        _places[key] = place_pattern()
    return _places[key]


def normalise_title(title: str, places: re.Pattern | None = None) -> str:
    """A request's title reduced to what it asks for: lower case, no accents, place names and stop words
    taken out ("Données des zones humides de la Nièvre" → "zones humides"). Place names stay when nothing
    else would."""
    words = " ".join(_WORD.findall(normalise(title)))
    kept = places.sub(" ", words) if places is not None else words
    meaningful = [w for w in kept.split() if w not in STOP_WORDS]
    if not meaningful:
        meaningful = [w for w in words.split() if w not in STOP_WORDS]
    return " ".join(meaningful)[:200]


def word_stems(title: str) -> frozenset[str]:
    """The first four letters of each word: "zones humides" and "zone humide" share theirs."""
    return frozenset(word[:STEM_LENGTH] for word in title.split())


def _needed(size: int) -> int:
    """The stems two titles must share when the shorter has `size` of them: half, rounded up."""
    return (size + 1) // 2


def shares_enough(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two titles' stems have enough in common to be compared: half of the shorter's, rounded up."""
    return len(a & b) >= _needed(min(len(a), len(b)))


class StemIndex:
    """The first titles of the groups of a theme, found by the stems they share with a new title: exactly
    those for which `shares_enough` holds, without testing every one.

    A prefix filter, as in set-similarity joins: stems are ranked (`rank`, rarest first where it is known);
    a title's *prefix* is its first stems, as many as it may miss and still share `_needed` of them with a
    title no longer than itself. If two titles share at least `_needed(shorter)` stems, then the shorter
    one's prefix holds a stem of the longer one; so a leader is filed under its prefix stems (found when it
    is the shorter) and under all its stems (found from the new title's prefix, when the new title is the
    shorter). Only the stems of prefixes are looked up, and they are the rare ones: the common ones ("zone",
    "plan") do not make every title a candidate of every other. Which titles are found does not depend on
    the ranking, only how fast."""

    def __init__(self, rank: dict[str, int]):
        self.rank = rank  # each stem's place, rarest first
        self.by_prefix: dict[str, list[int]] = defaultdict(list)
        self.by_stem: dict[str, list[int]] = defaultdict(list)
        # Each leader's stems as 64 bits (a stem's bit: its rank modulo 64), whose common bits count at least
        # the stems two titles share: a cheap test that drops most of the leaders that share too few, before
        # the exact one.
        self.bits: list[int] = []
        self.stems: list[frozenset[str]] = []

    def _prefix(self, stems: frozenset[str]) -> list[str]:
        ordered = sorted(stems, key=lambda stem: (self.rank.get(stem, -1), stem))
        return ordered[: len(ordered) - _needed(len(ordered)) + 1]

    def _bits(self, stems: frozenset[str]) -> int:
        bits = 0
        for stem in stems:
            bits |= 1 << (self.rank.get(stem, hash(stem)) % 64)
        return bits

    def add(self, index: int, stems: frozenset[str]) -> None:
        for stem in self._prefix(stems):
            self.by_prefix[stem].append(index)
        for stem in stems:
            self.by_stem[stem].append(index)
        self.bits.append(self._bits(stems))
        self.stems.append(stems)

    def candidates(self, stems: frozenset[str]) -> list[int]:
        found = {i for stem in stems for i in self.by_prefix.get(stem, ())}
        found.update(i for stem in self._prefix(stems) for i in self.by_stem.get(stem, ()))
        bits, needed, leaders = self._bits(stems), _needed(len(stems)), self.bits
        return sorted(
            i
            for i in found
            if ((leaders[i] & bits).bit_count() >= min(needed, _needed(len(self.stems[i]))))
            and shares_enough(stems, self.stems[i])
        )


def stem_rank(titles: Iterable[str]) -> dict[str, int]:
    """The stems of these titles, rarest first."""
    frequency = Counter(stem for title in set(titles) for stem in word_stems(title))
    return {stem: place for place, stem in enumerate(sorted(frequency, key=lambda stem: (frequency[stem], stem)))}


class ThemeGroups:
    """The groups of one theme, as its threads arrive in the order they were received."""

    def __init__(self, rank: dict[str, int], threshold: int = SIMILARITY_THRESHOLD):
        self.threshold = threshold
        self.index = StemIndex(rank)
        self.leader_ids: list[int] = []
        self.leader_titles: list[str] = []
        self.by_title: dict[str, int] = {}  # the same normalised title goes to the same group

    def add_leader(self, thread_id: int, title: str) -> None:
        self.index.add(len(self.leader_ids), word_stems(title))
        self.leader_ids.append(thread_id)
        self.leader_titles.append(title)

    def place(self, thread_id: int, title: str) -> int:
        """The first thread of the group `thread_id` joins (itself when it starts one)."""
        leader = self.by_title.get(title) if title else None
        if leader is None and title:
            candidates = self.index.candidates(word_stems(title))
            match = process.extractOne(
                title,
                [self.leader_titles[i] for i in candidates],
                scorer=fuzz.token_set_ratio,
                score_cutoff=self.threshold,
            )
            leader = self.leader_ids[candidates[match[2]]] if match is not None else None
        if leader is None:
            leader = thread_id
            self.add_leader(thread_id, title)
        if title:
            self.by_title[title] = leader
        return leader


# Who is about which theme -------------------------------------------------------------------------------------


class Membership(NamedTuple):
    theme_id: int | None
    thread_id: int
    created_at: datetime
    title: str


def memberships(condition, session=None) -> list[Membership]:
    """The (theme, thread) pairs of the data requests and missing-data reports meeting `condition`: their own
    themes and their dataset's; theme None for a thread without any. One query."""
    session = session or db.session
    condition = sa.and_(Thread.kind.in_(DEMAND_KINDS), condition)
    own = sa.select(thread_theme.c.thread_id.label("thread_id"), thread_theme.c.theme_id.label("theme_id")).join(
        Thread, Thread.id == thread_theme.c.thread_id
    )
    of_dataset = sa.select(Thread.id.label("thread_id"), dataset_theme.c.theme_id.label("theme_id")).join(
        dataset_theme, dataset_theme.c.dataset_id == Thread.dataset_id
    )
    themes = sa.union(own.where(condition), of_dataset.where(condition)).subquery()
    rows = session.execute(
        sa.select(themes.c.theme_id, Thread.id, Thread.created_at, Thread.title)
        .select_from(Thread)
        .outerjoin(themes, themes.c.thread_id == Thread.id)
        .where(condition)
    )
    return [Membership(*row) for row in rows]


def _about_theme(theme_id: int | None):
    """SQL condition on `Thread`: about this theme (theme None: about none)."""
    own, of_dataset = thread_theme.alias(), dataset_theme.alias()
    if theme_id is None:
        return sa.and_(
            sa.not_(sa.exists().where(own.c.thread_id == Thread.id)),
            sa.not_(sa.exists().where(of_dataset.c.dataset_id == Thread.dataset_id)),
        )
    return sa.or_(
        sa.exists().where(own.c.thread_id == Thread.id, own.c.theme_id == theme_id),
        sa.exists().where(of_dataset.c.dataset_id == Thread.dataset_id, of_dataset.c.theme_id == theme_id),
    )


# Computing from scratch -------------------------------------------------------------------------------------

Key = tuple[int, int | None]  # (thread id, theme id)


def compute(
    rows: Iterable[Membership], places: re.Pattern | None, threshold: int = SIMILARITY_THRESHOLD
) -> dict[Key, tuple[int, str]]:
    """Each (thread, theme) of `rows` → (the first thread of its group, its normalised title), from scratch;
    `places`: the place names taken out of titles (`place_pattern`)."""
    titles: dict[int, str] = {}
    buckets: dict[int | None, list[Membership]] = defaultdict(list)
    for row in rows:
        if row.thread_id not in titles:
            titles[row.thread_id] = normalise_title(row.title, places)
        buckets[row.theme_id].append(row)
    rank = stem_rank(titles.values())
    found: dict[Key, tuple[int, str]] = {}
    for theme_id, members in buckets.items():
        members.sort(key=lambda m: (m.created_at, m.thread_id))
        groups = ThemeGroups(rank, threshold)
        for member in members:
            title = titles[member.thread_id]
            found[(member.thread_id, theme_id)] = (groups.place(member.thread_id, title), title)
    return found


def stored(condition=None) -> dict[Key, tuple[int, str]]:
    statement = sa.select(DemandEntry.thread_id, DemandEntry.theme_id, DemandEntry.leader_id, DemandEntry.title)
    if condition is not None:
        statement = statement.where(condition)
    rows = db.session.execute(statement)
    return {(thread_id, theme_id): (leader, title) for thread_id, theme_id, leader, title in rows}


def entry_rows(found: Iterable[tuple[Key, tuple[int, str]]]) -> list[dict]:
    """The `demand_entry` rows of (thread, theme) → (first thread of its group, normalised title) pairs."""
    return [
        {"thread_id": thread_id, "theme_id": theme_id, "leader_id": leader, "title": title}
        for (thread_id, theme_id), (leader, title) in found
    ]


def _write(found: dict[Key, tuple[int, str]], before: dict[Key, tuple[int, str]]) -> None:
    """Make the stored rows `before` say `found`: delete, update and insert what differs."""
    changed = [key for key, value in found.items() if before.get(key) != value]
    for thread_id, theme_id in [key for key in before if key not in found] + [key for key in changed if key in before]:
        db.session.execute(sa.delete(DemandEntry).where(DemandEntry.thread_id == thread_id, _theme_condition(theme_id)))
    if changed:
        db.session.execute(sa.insert(DemandEntry), entry_rows((key, found[key]) for key in changed))


def rebuild(*, batch: int = 5000) -> None:
    """Every group computed from scratch and stored (the migration, a bulk load)."""
    found = compute(memberships(sa.true()), current_place_pattern())
    db.session.execute(sa.delete(DemandEntry))
    rows = entry_rows(sorted(found.items(), key=lambda item: (item[0][0], item[0][1] or 0)))
    for start in range(0, len(rows), batch):
        db.session.execute(sa.insert(DemandEntry), rows[start : start + batch])


class Difference(NamedTuple):
    thread_id: int
    theme_id: int | None
    stored: tuple[int, str] | None
    recomputed: tuple[int, str] | None


def differences() -> list[Difference]:
    """Where the stored groups differ from the groups computed from scratch, sorted by thread."""
    found, kept = compute(memberships(sa.true()), current_place_pattern()), stored()
    return sorted(
        (Difference(key[0], key[1], kept.get(key), found.get(key)) for key in found.keys() | kept.keys()
         if kept.get(key) != found.get(key)),
        key=lambda d: (d.thread_id, d.theme_id or 0),
    )  # fmt: skip


# Following the threads ------------------------------------------------------------------------------------------


def refresh(thread_ids: Iterable[int], themes: Iterable[int | None] = ()) -> None:
    """Bring the groups up to date after these threads changed (created, reclassified, retitled, re-themed,
    moved to another dataset, deleted), and recompute `themes` from scratch."""
    ids = set(thread_ids)
    if not ids and not themes:
        return
    current = memberships(Thread.id.in_(ids)) if ids else []
    before = stored(DemandEntry.thread_id.in_(ids)) if ids else {}
    places = current_place_pattern() if current else None
    titles = {m.thread_id: normalise_title(m.title, places) for m in current}
    now_in: dict[int | None, list[Membership]] = defaultdict(list)
    for member in current:
        now_in[member.theme_id].append(member)
    recompute = set(themes)
    still = {(m.thread_id, m.theme_id, titles[m.thread_id]) for m in current}
    for (thread_id, theme_id), (_, title) in before.items():
        if (thread_id, theme_id, title) not in still:
            recompute.add(theme_id)  # left the theme, or its title changed
    for theme_id, members in now_in.items():
        arriving = [m for m in members if (m.thread_id, theme_id) not in before]
        if theme_id not in recompute and arriving and not _append(theme_id, arriving, titles):
            recompute.add(theme_id)
    for theme_id in recompute:
        _recompute_theme(theme_id)


def _theme_condition(theme_id: int | None):
    return DemandEntry.theme_id.is_(None) if theme_id is None else DemandEntry.theme_id == theme_id


def _append(theme_id: int | None, arriving: list[Membership], titles: dict[int, str]) -> bool:
    """Place threads received after every other thread of the theme, as they arrived; False (nothing
    written) when one of them was not."""
    arriving.sort(key=lambda m: (m.created_at, m.thread_id))
    latest = db.session.execute(
        sa.select(Thread.created_at, Thread.id)
        .join(DemandEntry, DemandEntry.thread_id == Thread.id)
        .where(_theme_condition(theme_id), Thread.id.not_in([m.thread_id for m in arriving]))
        .order_by(Thread.created_at.desc(), Thread.id.desc())
        .limit(1)
    ).first()
    if latest is not None and (arriving[0].created_at, arriving[0].thread_id) < (latest[0], latest[1]):
        return False
    leaders = db.session.execute(
        sa.select(DemandEntry.leader_id, DemandEntry.title)
        .join(Thread, Thread.id == DemandEntry.leader_id)
        .where(_theme_condition(theme_id), DemandEntry.thread_id == DemandEntry.leader_id)
        .order_by(Thread.created_at, Thread.id)
    ).all()
    named = db.session.execute(
        sa.select(DemandEntry.title, DemandEntry.leader_id)
        .where(_theme_condition(theme_id), DemandEntry.title != "")
        .distinct()
    ).all()
    groups = ThemeGroups(stem_rank([title for _, title in leaders] + list(titles.values())))
    for leader_id, title in leaders:
        groups.add_leader(leader_id, title)
    groups.by_title.update(dict(named))
    placed = [
        ((m.thread_id, theme_id), (groups.place(m.thread_id, titles[m.thread_id]), titles[m.thread_id]))
        for m in arriving
    ]
    db.session.execute(sa.insert(DemandEntry), entry_rows(placed))
    return True


def _recompute_theme(theme_id: int | None) -> None:
    rows = [m for m in memberships(_about_theme(theme_id)) if m.theme_id == theme_id]
    _write(compute(rows, current_place_pattern()), stored(_theme_condition(theme_id)))


# Hooks: the session's flushes and the catalogue import --------------------------------------------------------

_WATCHED = ("kind", "title", "dataset_id", "themes")
_PENDING = "demand_pending"


def _before_flush(session: Session, flush_context, instances) -> None:
    pending = session.info.setdefault(_PENDING, {"threads": [], "ids": set(), "themes": set()})
    for thread in session.new:
        if isinstance(thread, Thread):
            pending["threads"].append(thread)
    # A thread deleted, or received at another time, changes the order of its themes: they are computed again.
    reordered = [thread.id for thread in session.deleted if isinstance(thread, Thread)]
    for thread in session.dirty:
        if not isinstance(thread, Thread):
            continue
        attributes = sa.inspect(thread).attrs
        if any(attributes[name].history.has_changes() for name in _WATCHED):
            pending["ids"].add(thread.id)
        if attributes.created_at.history.has_changes():
            reordered.append(thread.id)
    if reordered:
        with session.no_autoflush:
            pending["themes"].update(
                session.scalars(sa.select(DemandEntry.theme_id).where(DemandEntry.thread_id.in_(reordered)).distinct())
            )


def _after_flush_postexec(session: Session, flush_context) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    ids = pending["ids"] | {thread.id for thread in pending["threads"] if thread.id is not None}
    if ids or pending["themes"]:
        refresh(ids, pending["themes"])


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _datasets_changed(sender, dataset_ids: list[int], **extra: Any) -> None:
    """The catalogue import changed these datasets' themes: the requests about them change themes too."""
    ids = db.session.scalars(
        sa.select(Thread.id).where(Thread.dataset_id.in_(dataset_ids), Thread.kind.in_(DEMAND_KINDS))
    ).all()
    if ids:
        refresh(ids)


_registered: list[bool] = []


def register() -> None:
    """Follow the threads: once per process, on the application's session class."""
    if _registered:
        return
    session_class = db.session.session_factory.class_
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "after_flush_postexec", _after_flush_postexec)
    event.listen(session_class, "after_soft_rollback", lambda session, previous: _after_rollback(session))
    dataset_themes_changed.connect(_datasets_changed)
    _registered.append(True)
