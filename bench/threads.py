"""Generated threads for the benchmark: people, threads, messages, votes and events, at scale.

`ThreadGenerator(session)` reads what it needs from a database that already holds the catalogue (the
producer organisations and their current datasets, the themes, the départements, sentences of the
dataset descriptions). Then:

- `add_people()` inserts the users: 5,000 authors, every producer organisation's members (the busiest
  organisations have several), a few curators. All share one password (`PASSWORD`), hashed once.
- `plan(total)` draws the creation times of `total` threads over three years (more of them recently) and
  gives them consecutive ids, in time order.
- `add_threads(ids)` writes those threads: each is played out as the services would have written it
  (create_thread, post_message, change_status, ask_details, extend_deadline, assign_thread,
  route_thread, toggle_vote, toggle_follow), with the same rules (a producer's first answer moves a new
  thread to "pris en compte", an internal note does not touch the last activity, a decline comes with a
  motive…), then inserted in bulk with SQLAlchemy Core (`executemany`, `CHUNK` threads at a time), and the
  FTS5 index filled with `THREAD_SEARCH.index` chunk by chunk. Going through the services themselves, one
  thread, several flushes and one commit at a time (and every message's markdown rendered), would take
  about half an hour for 100,000 threads (19 ms a thread of four messages, measured on the 2-core
  machine), against well under a minute here; the bulk path writes the same rows, and
  `check_consistency` verifies it.

The benchmark calls `add_threads` twice: a random tenth of the planned ids first (the same platform,
ten times less used), then the rest; the first state is therefore a uniform sample of the second.

Titles are made from the catalogue's own titles (the datasets' titles, or one real title's beginning
joined to another's end) and the labels of the taxonomy (quality categories, use cases, themes,
territories); bodies from French sentences of the real dataset descriptions set in short template
paragraphs. Markdown is rendered once per paragraph of the pool, by the real `render_markdown`; a body
of several paragraphs gets their HTML joined by newlines, which is what `render_markdown` gives for the
paragraphs joined by blank lines (checked on a sample when the pool is built).
"""

from __future__ import annotations

import html
import random
import re
import time
from bisect import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from feedback.accounts.models import EmployerKind, Membership, MembershipRole, Organisation, Role, User
from feedback.capitalisation import demand
from feedback.catalogue.models import Dataset, Territory, TerritoryKind, Theme, ThemeScheme
from feedback.database import refresh_statistics, utcnow
from feedback.markdown import render_markdown
from feedback.search import normalise
from feedback.threads import answers, deadlines, stored_figures
from feedback.threads.models import (
    THREAD_SEARCH,
    USE_CASE_LABELS,
    DeclineReason,
    Message,
    MessagePurpose,
    RequestWant,
    Subscription,
    Thread,
    ThreadEvent,
    ThreadKind,
    ThreadStatus,
    UseCase,
    Visibility,
    Vote,
    thread_related_dataset,
    thread_theme,
)
from feedback.threads.services import search_text_of
from feedback.threads.taxonomy import QUALITY_CATEGORIES

PASSWORD = "mot-de-passe-du-banc-2026"
AUTHORS = 5000
CURATORS = 3
SPAN_DAYS = 3 * 365
CHUNK = 2000  # threads per bulk insert (their messages, events, votes… go in the same round)
LONG_THREAD_MESSAGES = 50
SERVICE_TARGET_WORKING_DAYS = 15  # the default of FEEDBACK_SERVICE_TARGET_WORKING_DAYS

KIND_WEIGHTS = {
    ThreadKind.QUALITY_ISSUE: 35,
    ThreadKind.QUESTION: 30,
    ThreadKind.DATA_REQUEST: 22,
    ThreadKind.MISSING_DATA: 13,
}
# Messages of the conversation (the opening included), before the motives that come with a closing.
MESSAGE_COUNTS = {1: 24, 2: 20, 3: 16, 4: 12, 5: 9, 6: 6, 7: 4, 8: 3, 10: 2.5, 14: 1.5, 20: 0.8, 30: 0.4}
LONG_THREAD_SHARE = 0.002  # threads of LONG_THREAD_MESSAGES messages
RESTRICTED_SHARE = 0.15  # of the data requests
CLOSED_WEIGHTS = {
    ThreadStatus.RESOLVED: 62,
    ThreadStatus.DECLINED: 15,
    ThreadStatus.DUPLICATE: 10,
    ThreadStatus.WITHDRAWN: 8,
}

FIRST_NAMES = (  # noqa: SIM905
    "Marie Jean Sophie Pierre Camille Nicolas Julie Thomas Claire Antoine Isabelle Laurent Nathalie Julien "
    "Céline François Aurélie Mathieu Émilie Olivier Sandrine Guillaume Hélène Sébastien Anne Christophe Élodie "
    "Benoît Valérie Romain Lucie Frédéric Chloé Stéphane Manon Damien Léa Vincent Pauline Hugo Agnès Yannick "
    "Gaëlle Loïc"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel "
    "Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont Lambert Bonnet "
    "François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel Nicolas Perrin Morin "
    "Mathieu Clément"
).split()

GREETINGS = ["Bonjour,", "Bonjour à tous,", "Madame, Monsieur,", "Bonjour à l'équipe,", "Bonjour,\nMerci pour ce fil."]
CLOSINGS = [
    "Cordialement.",
    "Bien cordialement,",
    "Merci d'avance pour votre retour.",
    "Merci pour votre aide.",
    "Je reste disponible pour tout complément.",
    "Bonne journée,",
]
OPENINGS = {
    ThreadKind.QUALITY_ISSUE: [
        "En exploitant ce jeu de données pour {usage}, nous avons relevé un problème : {categorie}. {phrase}",
        "Je signale un problème de type « {categorie} » sur ce jeu de données. La fiche indique : « {phrase} »",
        "Dans le cadre de {usage}, nous utilisons cette couche et constatons : {categorie}. {phrase}",
        "La ressource ne correspond pas à sa description ({categorie}). Extrait de la fiche : « {phrase} »",
    ],
    ThreadKind.DATA_REQUEST: [
        "Pour {usage}, nous aurions besoin de la donnée suivante, que nous ne trouvons pas publiée. {phrase}",
        "Je sollicite la communication de cette information environnementale pour {usage}. {phrase}",
        "Serait-il possible d'obtenir une version plus récente ou un extrait sur notre territoire ? {phrase}",
        "Dans le cadre de {usage}, nous souhaitons disposer de ces données au format SIG. {phrase}",
    ],
    ThreadKind.MISSING_DATA: [
        "Nous cherchons une donnée sur {theme} pour {usage} et ne la trouvons pas dans le catalogue. {phrase}",
        "Aucune couche ne semble couvrir {theme} sur notre territoire. Une donnée comparable existe ailleurs : "
        "« {phrase} »",
        "Pour {usage}, il nous manque une donnée de référence sur {theme}. {phrase}",
    ],
    ThreadKind.QUESTION: [
        "J'ai une question sur la méthode de production de ce jeu de données. {phrase}",
        "Pouvez-vous préciser la signification de certains champs ? La description indique : « {phrase} »",
        "Dans le cadre de {usage}, nous voudrions savoir si cette donnée est opposable. {phrase}",
        "Quelle est la date de validité de ces données ? {phrase}",
    ],
}
PARAGRAPHS = {
    "author": [
        "Merci pour votre réponse. {phrase}",
        "Je précise ma demande : le périmètre concerné est celui de {usage}. {phrase}",
        "Avez-vous pu avancer sur ce point ? {phrase}",
        "Je joins une précision sur notre besoin. {phrase}",
        "Le problème persiste dans la dernière version téléchargée. {phrase}",
    ],
    "other": [
        "Même constat de notre côté, dans le cadre de {usage}. {phrase}",
        "Nous avons rencontré le même problème. {phrase}",
        "Je soutiens cette demande : elle concerne aussi notre territoire. {phrase}",
        "Pour information, une donnée proche est décrite ainsi : « {phrase} »",
    ],
    "official": [
        "Merci pour votre message, que nous avons bien reçu. {phrase}",
        "Nos équipes examinent votre demande. Pour rappel, la fiche précise : « {phrase} »",
        "Une mise à jour est prévue dans les prochaines semaines. {phrase}",
        "Nous vérifions ce point avec le service producteur de la donnée. {phrase}",
        "La couche a été corrigée et republiée. {phrase}",
    ],
    "internal": [
        "Note : à voir avec le pôle connaissance des territoires avant de répondre. {phrase}",
        "Vérifier la dernière livraison reçue du prestataire. {phrase}",
        "Demande déjà traitée l'an dernier pour une autre commune ; reprendre la réponse. {phrase}",
    ],
    "ask": [
        "Pouvez-vous préciser le territoire et la période qui vous intéressent ? {phrase}",
        "Votre demande est un peu générale : quelles couches vous seraient utiles pour {usage} ?",
        "Merci d'indiquer le format attendu et l'usage prévu. {phrase}",
    ],
    "decline": [
        "Nous ne détenons pas cette donnée ; elle relève d'un autre service. {phrase}",
        "Cette information est couverte par un secret protégé par la loi et ne peut être communiquée.",
        "La demande sort du champ de l'information environnementale détenue par le service. {phrase}",
    ],
    "resolve": [
        "La donnée est désormais publiée et à jour. {phrase}",
        "Le jeu de données a été corrigé ; merci pour votre signalement. {phrase}",
        "Vous trouverez la réponse dans la fiche mise à jour : « {phrase} »",
    ],
    "duplicate": [
        "Ce sujet est déjà traité dans un autre fil, que nous vous invitons à suivre.",
        "Demande identique à un fil existant : la réponse y sera donnée. {phrase}",
    ],
    "extend": [
        "Au vu du volume de données à extraire, le délai de réponse est porté à deux mois. {phrase}",
        "La complexité de la demande nous conduit à prolonger le délai de réponse. {phrase}",
    ],
}
POOL_SIZES = {"open": 600, "author": 500, "other": 300, "official": 500, "internal": 200}
POOL_SIZE_DEFAULT = 100
TITLE_PATTERNS = {
    ThreadKind.QUALITY_ISSUE: ["{categorie} : {jeu}", "{jeu} — {categorie_min}", "{motif} : problème sur « {jeu} »"],
    ThreadKind.QUESTION: [
        "Question sur {jeu}",
        "{jeu} : quelle méthode de production ?",
        "Précisions sur {jeu}",
        "{jeu} : signification des champs ?",
    ],
    ThreadKind.DATA_REQUEST: {
        RequestWant.ACCESS: ["Demande d'accès : {jeu}", "Communication de {jeu_min}"],
        RequestWant.EXTRACT: ["Extrait de {jeu_min} sur {territoire}", "Demande d'extrait : {jeu} ({territoire})"],
        RequestWant.FORMAT: ["{jeu} : disponible dans un autre format ?", "Format SIG pour {jeu_min}"],
        RequestWant.UPDATE: ["Mise à jour de {jeu_min}", "{jeu} : version plus récente ?"],
    },
    ThreadKind.MISSING_DATA: [
        "Donnée manquante : {theme} ({territoire})",
        "Recherche de données sur {theme_min} en {territoire}",
        "{jeu} — donnée introuvable pour {territoire}",
    ],
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_UNSAFE = re.compile(r"[\[\]*_#<>&|`\\{}~=^]|https?:|www\.|\s{2,}|^[-+\d]|^\W")


class Weighted:
    """Values drawn with fixed weights: one bisect on the cumulated weights."""

    def __init__(self, values, weights):
        self.values = list(values)
        self.cumulated = list(accumulate(weights))
        self.total = self.cumulated[-1]

    def pick(self, rng: random.Random):
        return self.values[bisect(self.cumulated, rng.random() * self.total)]


def zipf(count: int, exponent: float, offset: float = 1.0) -> list[float]:
    return [1.0 / (rank + offset) ** exponent for rank in range(count)]


@dataclass
class People:
    authors: list[int]
    curators: list[int]
    members: dict[int, list[int]]  # producer organisation id → its members' user ids
    names: dict[int, str]
    emails: dict[int, str]
    busiest_organisation: int
    password: str = PASSWORD
    seconds: float = 0.0

    @property
    def member_count(self) -> int:
        return sum(len(members) for members in self.members.values())


@dataclass
class BatchStats:
    threads: int = 0
    rows: Counter = field(default_factory=Counter)
    seconds: float = 0.0  # everything: generation, inserts, index, fix-ups, commits
    index_seconds: float = 0.0  # THREAD_SEARCH.index
    analyze_seconds: float = 0.0  # refresh_statistics (ANALYZE) once the batch is written
    groups_seconds: float = 0.0  # demand.rebuild: the groups of similar requests, computed from scratch


class Corpus:
    """Paragraphs (source, HTML) to build message bodies from, and the words to build titles with."""

    def __init__(self, rng: random.Random, sentences: list[str], titles: list[list[str]], themes, departements):
        self.rng = rng
        self.sentences = sentences
        self.titles = titles
        self.themes = themes
        self.departements = departements
        self.pools: dict[str, list[tuple[str, str]]] = {}
        self.render_seconds = 0.0

    def build(self) -> None:
        start = time.perf_counter()
        for kind, templates in OPENINGS.items():
            self.pools[f"open:{kind.value}"] = self._pool(templates, POOL_SIZES["open"])
        for role, templates in PARAGRAPHS.items():
            self.pools[role] = self._pool(templates, POOL_SIZES.get(role, POOL_SIZE_DEFAULT))
        self.pools["greeting"] = [(text, str(render_markdown(text))) for text in GREETINGS]
        self.pools["closing"] = [(text, str(render_markdown(text))) for text in CLOSINGS]
        self.render_seconds = time.perf_counter() - start
        self._check_joins()

    def _fill(self, template: str) -> str:
        rng = self.rng
        category = rng.choice(QUALITY_CATEGORIES)
        theme = rng.choice(self.themes)
        return template.format(
            phrase=rng.choice(self.sentences),
            usage=_use_case_phrase(rng),
            categorie=category.label.lower(),
            theme=theme[1].lower(),
        )

    def _pool(self, templates: list[str], size: int) -> list[tuple[str, str]]:
        pool = []
        for _ in range(size):
            text = self._fill(self.rng.choice(templates))
            pool.append((text, str(render_markdown(text))))
        return pool

    def _check_joins(self) -> None:
        """The HTML of paragraphs joined by newlines must be what render_markdown makes of the whole body."""
        rng = random.Random(7)
        for _ in range(200):
            parts = [rng.choice(self.pools["greeting"]), *rng.sample(self.pools["author"], 2)]
            parts.append(rng.choice(self.pools["closing"]))
            source, joined = "\n\n".join(p[0] for p in parts), "\n".join(p[1] for p in parts)
            if str(render_markdown(source)) != joined:
                raise RuntimeError(f"paragraph HTML does not join like render_markdown: {source!r}")

    def body(self, role: str, paragraphs: int = 1, greeting: float = 0.6, closing: float = 0.5) -> tuple[str, str]:
        rng = self.rng
        parts = []
        if rng.random() < greeting:
            parts.append(rng.choice(self.pools["greeting"]))
        pool = self.pools[role]
        parts.extend(rng.choice(pool) for _ in range(paragraphs))
        if rng.random() < closing:
            parts.append(rng.choice(self.pools["closing"]))
        return "\n\n".join(p[0] for p in parts), "\n".join(p[1] for p in parts)

    def recombined_title(self) -> str:
        """The beginning of one real title followed by the end of another (as bench/catalogue.py does)."""
        rng = self.rng
        first, second = rng.choice(self.titles), rng.choice(self.titles)
        head = first[: rng.randint(1, max(1, len(first) - 1))]
        tail = second[rng.randint(min(1, len(second) - 1), len(second) - 1) :]
        title = " ".join((head + tail)[:14])
        return title[:1].upper() + title[1:]


def _use_case_phrase(rng: random.Random) -> str:
    use_case = rng.choice([u for u in UseCase if u != UseCase.OTHER])
    return f"notre {USE_CASE_LABELS[use_case]}"


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-—(") + "…"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def description_sentences(descriptions: list[str], limit: int = 6000) -> list[str]:
    """Plain French sentences of the dataset descriptions: no markup, no link, 40 to 220 characters."""
    seen, sentences = set(), []
    for description in descriptions:
        for sentence in _SENTENCE_END.split(html.unescape(description).replace("\n", " ")):
            sentence = sentence.strip()
            if not 40 <= len(sentence) <= 220 or sentence in seen or _UNSAFE.search(sentence):
                continue
            seen.add(sentence)
            sentences.append(sentence)
            if len(sentences) >= limit:
                return sentences
    return sentences


class _Play:
    """One thread played out: its row and everything written with it, following the services' rules."""

    def __init__(self, gen: ThreadGenerator, thread_id: int, row: dict, author: int):
        self.gen = gen
        self.id = thread_id
        self.row = row
        self.author = author
        self.messages: list[dict] = []
        self.events: list[dict] = []
        self.bodies: list[str] = []  # public bodies, for the search text
        self.changes = 0

    # What the services do --------------------------------------------------------------------------------

    def event(self, actor: int | None, type_: str, at: datetime, internal: bool = False, **payload) -> None:
        self.events.append(
            {
                "id": self.gen.next_event_id(),
                "thread_id": self.id,
                "actor_id": actor,
                "type": type_,
                "payload": payload,
                "internal": internal,
                "created_at": at,
            }
        )

    def touch(self, at: datetime) -> None:
        self.row["last_activity_at"] = max(self.row["last_activity_at"], at)
        self.changes += 1

    def change(self, actor: int | None, status: ThreadStatus, at: datetime, automatic=False, **payload) -> None:
        previous = self.row["status"]
        self.row["status"] = status.value
        self.row["is_open"] = status.is_open
        self.row["closed_at"] = None if status.is_open else at
        self.touch(at)
        if status in answers.SERVICE_CLOSINGS:  # threads.answers: the service closing a thread answers it
            by_service = actor in self.gen.member_of.get(self.row["organisation_id"], ())
            payload["by_service"] = by_service
            if by_service and self.row["answered_at"] is None:
                self.row["answered_at"] = at
        self.event(actor, "status_changed", at, previous=previous, status=status.value, automatic=automatic, **payload)

    def post(
        self,
        author: int,
        role: str,
        at: datetime,
        *,
        internal=False,
        moves_status=True,
        first=False,
        text=None,
        purpose: MessagePurpose | None = None,
        **body,
    ):
        source, rendered = text or self.gen.corpus.body(role, **body)
        producer = author in self.gen.member_of.get(self.row["organisation_id"], ())
        as_organisation = self.row["organisation_id"] if producer and not internal and not first else None
        if internal:
            purpose = MessagePurpose.INTERNAL_NOTE
        elif purpose is None:
            purpose = MessagePurpose.ANSWER if as_organisation is not None else MessagePurpose.REPLY
        message_id = self.gen.next_message_id()
        self.messages.append(
            {
                "id": message_id,
                "thread_id": self.id,
                "author_id": author,
                "as_organisation_id": as_organisation,
                "internal": internal,
                "purpose": purpose.value,
                "created_at": at,
                "edited_at": None,
                "hidden_at": None,
                "body": source,
                "body_html": rendered,
            }
        )
        self.row["messages_count"] += 1
        if first:  # create_thread: the opening message, its event is "created"
            self.row["public_messages_count"] += 1
            self.bodies.append(source)
            return
        if not internal:
            self.touch(at)
        else:
            self.changes += 1
        self.event(
            author,
            "internal_note" if internal else "message",
            at,
            internal=internal,
            message_id=message_id,
            purpose=purpose.value,
        )
        if internal:
            return
        self.row["public_messages_count"] += 1
        self.bodies.append(source)
        if as_organisation is not None and purpose in answers.RESPONSES:  # threads.answers
            if self.row["first_response_at"] is None:
                self.row["first_response_at"] = at
            if self.row["answered_at"] is None:
                self.row["answered_at"] = at
            if moves_status and self.row["status"] == ThreadStatus.NEW:
                self.change(author, ThreadStatus.ACKNOWLEDGED, at, automatic=True)
        elif moves_status and author == self.author and self.row["status"] == ThreadStatus.NEEDS_INFO:
            self.change(author, ThreadStatus.ACKNOWLEDGED, at, automatic=True)


class ThreadGenerator:
    def __init__(self, session, *, seed: int = 20260116, now: datetime | None = None):
        self.session = session
        self.rng = random.Random(seed)
        self.now = (now or utcnow()).replace(microsecond=0)
        self.start = self.now - timedelta(days=SPAN_DAYS)
        self.created: dict[int, datetime] = {}
        self.member_of: dict[int | None, set[int]] = {}
        self.public_by_subject: dict[tuple, list[int]] = defaultdict(list)
        self.people: People | None = None
        self._message_id = self._event_id = 0
        self._load_catalogue()

    # Reference data -----------------------------------------------------------------------------------------

    def _load_catalogue(self) -> None:
        session, rng = self.session, self.rng
        rows = session.execute(
            sa.select(Dataset.id, Dataset.organisation_id, Dataset.title)
            .join(Organisation, Organisation.id == Dataset.organisation_id)
            .where(Dataset.archived.is_(False), Organisation.is_producer)
            .order_by(Dataset.id)
        ).all()
        if not rows:
            raise SystemExit("the catalogue holds no current dataset of a producer organisation")
        by_organisation: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for dataset_id, organisation_id, title in rows:
            by_organisation[organisation_id].append((dataset_id, title))
        # A few organisations, and a few datasets in each, get most of the threads.
        self.organisations = sorted(by_organisation, key=lambda o: (-len(by_organisation[o]), o))
        self.organisation_names = dict(
            session.execute(sa.select(Organisation.id, Organisation.name).where(Organisation.is_producer)).all()
        )
        self.organisation_picker = Weighted(self.organisations, zipf(len(self.organisations), 1.0, 2))
        self.dataset_pickers = {}
        self.dataset_titles = {}
        for organisation_id, datasets in by_organisation.items():
            rng.shuffle(datasets)
            self.dataset_pickers[organisation_id] = Weighted([d for d, _ in datasets], zipf(len(datasets), 0.9, 3))
            self.dataset_titles.update(datasets)
        self.themes = session.execute(
            sa.select(Theme.id, Theme.label).where(
                sa.or_(Theme.scheme == ThemeScheme.INSPIRE, Theme.parent_id.is_(None))
            )
        ).all()
        self.departements = session.execute(
            sa.select(Territory.code, Territory.name).where(Territory.kind == TerritoryKind.DEPARTEMENT)
        ).all()
        ids = [dataset_id for dataset_id, _, _ in rows]
        chosen = sorted(rng.sample(ids, min(3000, len(ids))))
        descriptions = []
        for start in range(0, len(chosen), 500):
            descriptions += session.scalars(
                sa.select(Dataset.description).where(Dataset.id.in_(chosen[start : start + 500]))
            ).all()
        sentences = description_sentences(descriptions)
        titles = [title.split() for _, _, title in rows if title.split()]
        self.corpus = Corpus(rng, sentences, titles, self.themes, self.departements)
        self.corpus.build()

    # People -------------------------------------------------------------------------------------------------

    def add_people(self) -> People:
        start = time.perf_counter()
        rng, session = self.rng, self.session
        password_hash = generate_password_hash(PASSWORD)  # once: every account shares it
        first_id = (session.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
        users, memberships, names, emails = [], [], {}, {}

        def add(role: Role, email: str, kind: EmployerKind, employer: str) -> int:
            user_id = first_id + len(users)
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            created = self.start - timedelta(days=rng.uniform(0, 400))
            users.append(
                {
                    "id": user_id,
                    "email": email,
                    "name": name,
                    "password_hash": password_hash,
                    "role": role.value,
                    "employer_kind": kind.value,
                    "employer_name": employer,
                    "active": True,
                    "confirmed": True,
                    "created_at": created,
                    "last_login_at": None,
                    "datagouv_id": None,
                }
            )
            names[user_id], emails[user_id] = name, email
            return user_id

        departements = [name for _, name in self.departements]
        employers = [
            (EmployerKind.CONSULTANCY, 30, lambda: f"Bureau d'études {rng.choice(LAST_NAMES)} Environnement"),
            (EmployerKind.LOCAL_AUTHORITY, 35, lambda: f"Communauté de communes de {rng.choice(departements)}"),
            (EmployerKind.ASSOCIATION, 10, lambda: f"Association {rng.choice(departements)} Nature Environnement"),
            (EmployerKind.STATE_SERVICE, 15, lambda: f"Préfecture de {rng.choice(departements)}"),
            (EmployerKind.OTHER, 10, lambda: "Indépendant"),
        ]
        employer_picker = Weighted([(k, f) for k, _, f in employers], [w for _, w, _ in employers])
        authors = []
        for number in range(1, AUTHORS + 1):
            kind, employer = employer_picker.pick(rng)
            authors.append(add(Role.USER, f"usager{number}@exemple.fr", kind, employer()))
        curators = [
            add(Role.CURATOR, f"administration{n}@ecospheres.gouv.fr", EmployerKind.STATE_SERVICE, "Ecosphères")
            for n in range(1, CURATORS + 1)
        ]
        members: dict[int, list[int]] = {}
        membership_id = (session.scalar(sa.select(sa.func.max(Membership.id))) or 0) + 1
        # Every producer organisation has members, those without a current dataset too (ranked last).
        without_datasets = sorted(set(self.organisation_names) - set(self.organisations))
        for rank, organisation_id in enumerate(self.organisations + without_datasets):
            count = 6 if rank == 0 else 3 if rank < 10 else rng.choice((1, 2))
            name = self.organisation_names[organisation_id]
            members[organisation_id] = []
            for n in range(count):
                email = f"agent{n + 1}.org{organisation_id}@developpement-durable.gouv.fr"
                user_id = add(Role.USER, email, EmployerKind.STATE_SERVICE, name)
                members[organisation_id].append(user_id)
                role = MembershipRole.COORDINATOR if n == 0 else MembershipRole.MEMBER
                memberships.append(
                    {
                        "id": membership_id,
                        "user_id": user_id,
                        "organisation_id": organisation_id,
                        "role": role.value,
                        "created_at": self.start,
                    }
                )
                membership_id += 1
        for start_row in range(0, len(users), CHUNK):
            session.execute(sa.insert(User.__table__), users[start_row : start_row + CHUNK])
        session.execute(sa.insert(Membership.__table__), memberships)
        session.commit()
        advance_sequences(session, ("user_account", "membership"))
        self.member_of = {organisation_id: set(ids) for organisation_id, ids in members.items()}
        # Authors are skewed too: a few consultancies and local authorities write a lot.
        self.author_picker = Weighted(authors, zipf(len(authors), 0.7, 20))
        self.people = People(
            authors=authors,
            curators=curators,
            members=members,
            names=names,
            emails=emails,
            busiest_organisation=self.organisations[0],
            seconds=time.perf_counter() - start,
        )
        return self.people

    # Threads ------------------------------------------------------------------------------------------------

    def plan(self, total: int) -> list[int]:
        """Ids for `total` threads, in creation order; more threads in recent months (the platform grows)."""
        first = (self.session.scalar(sa.select(sa.func.max(Thread.id))) or 0) + 1
        span = (self.now - timedelta(hours=1) - self.start).total_seconds()
        offsets = sorted(span * self.rng.random() ** 0.5 for _ in range(total))
        ids = list(range(first, first + total))
        for thread_id, offset in zip(ids, offsets, strict=True):
            self.created[thread_id] = self.start + timedelta(seconds=int(offset))
        return ids

    def next_message_id(self) -> int:
        self._message_id += 1
        return self._message_id

    def next_event_id(self) -> int:
        self._event_id += 1
        return self._event_id

    def add_threads(self, ids: list[int], progress=None) -> BatchStats:
        """Generate and insert the planned threads `ids` (in id order), with everything that goes with them."""
        if self.people is None:
            raise RuntimeError("add_people() first")
        started = time.perf_counter()
        session = self.session
        self._message_id = session.scalar(sa.select(sa.func.max(Message.id))) or 0
        self._event_id = session.scalar(sa.select(sa.func.max(ThreadEvent.id))) or 0
        stats = BatchStats(threads=len(ids))
        duplicates: list[int] = []
        ids = sorted(ids)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            tables: dict[str, list[dict]] = defaultdict(list)
            for thread_id in chunk:
                self._thread(thread_id, tables, duplicates)
            for name, table in (
                ("thread", Thread.__table__),
                ("message", Message.__table__),
                ("thread_event", ThreadEvent.__table__),
                ("vote", Vote.__table__),
                ("subscription", Subscription.__table__),
                ("thread_theme", thread_theme),
                ("thread_related_dataset", thread_related_dataset),
            ):
                rows = tables.get(name)
                if rows:
                    session.execute(sa.insert(table), rows)
                    stats.rows[name] += len(rows)
            index_start = time.perf_counter()
            THREAD_SEARCH.index(session, chunk)
            stats.index_seconds += time.perf_counter() - index_start
            session.commit()
            if progress and (start // CHUNK) % 10 == 9:
                progress(f"{number(start + len(chunk))} of {number(len(ids))} threads written")
        self._merge_duplicates(duplicates)
        session.commit()
        advance_sequences(session, ("thread", "message", "thread_event"))
        stats.seconds = time.perf_counter() - started
        # Rows written in bulk do not pass the session's hooks: the groups of similar requests are computed
        # from scratch, as the migration does, and timed apart.
        groups_start = time.perf_counter()
        demand.rebuild()
        session.commit()
        stats.groups_seconds = time.perf_counter() - groups_start
        # As after any bulk load (the catalogue import does the same): the planner's statistics, timed apart.
        analyze_start = time.perf_counter()
        refresh_statistics(session)
        session.commit()
        stats.analyze_seconds = time.perf_counter() - analyze_start
        return stats

    def _merge_duplicates(self, duplicates: list[int]) -> None:
        """change_status(…, DUPLICATE) moves the duplicate's votes and followers to the original
        (`_mark_duplicate`); done here in set-based statements, then the originals' counters recounted."""
        session = self.session
        for start in range(0, len(duplicates), 5000):
            ids = duplicates[start : start + 5000]
            params = {"ids": ids}
            expanding = sa.bindparam("ids", expanding=True)
            session.execute(
                sa.text(
                    # Standard SQL (SQLite and PostgreSQL): each (original, person) once, and not already there.
                    "INSERT INTO vote (thread_id, user_id, created_at) "
                    "SELECT t.duplicate_of_id, v.user_id, min(v.created_at) "
                    "FROM vote v JOIN thread t ON t.id = v.thread_id "
                    "WHERE t.id IN :ids AND NOT EXISTS (SELECT 1 FROM vote o "
                    "WHERE o.thread_id = t.duplicate_of_id AND o.user_id = v.user_id) "
                    "GROUP BY t.duplicate_of_id, v.user_id"
                ).bindparams(expanding),
                params,
            )
            session.execute(
                sa.text(
                    "INSERT INTO subscription (thread_id, user_id, created_at) "
                    "SELECT t.duplicate_of_id, s.user_id, min(t.closed_at) FROM subscription s "
                    "JOIN thread t ON t.id = s.thread_id "
                    "WHERE t.id IN :ids AND NOT EXISTS (SELECT 1 FROM subscription o "
                    "WHERE o.thread_id = t.duplicate_of_id AND o.user_id = s.user_id) "
                    "GROUP BY t.duplicate_of_id, s.user_id"
                ).bindparams(expanding),
                params,
            )
            session.execute(
                sa.text(
                    "UPDATE thread SET "
                    "votes_count = (SELECT count(*) FROM vote WHERE vote.thread_id = thread.id), "
                    "followers_count = (SELECT count(*) FROM subscription s WHERE s.thread_id = thread.id) "
                    "WHERE id IN (SELECT duplicate_of_id FROM thread WHERE id IN :ids)"
                ).bindparams(expanding),
                params,
            )

    def _subject(self, kind: ThreadKind) -> tuple[int | None, int | None]:
        """(dataset id, organisation id) of a new thread."""
        rng = self.rng
        if kind == ThreadKind.QUALITY_ISSUE or (kind != ThreadKind.MISSING_DATA and rng.random() < 0.75):
            organisation_id = self.organisation_picker.pick(rng)
            return self.dataset_pickers[organisation_id].pick(rng), organisation_id
        if kind == ThreadKind.MISSING_DATA:
            return None, None
        return None, self.organisation_picker.pick(rng)

    def _title(self, kind: ThreadKind, dataset_id, category, want, territory, theme) -> str:
        rng = self.rng
        subject = self.dataset_titles[dataset_id] if dataset_id else self.corpus.recombined_title()
        subject = _shorten(subject, 120)
        patterns = TITLE_PATTERNS[kind]
        if isinstance(patterns, dict):
            patterns = patterns[want]
        title = rng.choice(patterns).format(
            jeu=subject,
            jeu_min=_lower_first(subject),
            categorie=category.label if category else "",
            categorie_min=category.label.lower() if category else "",
            motif=category.motif if category else "",
            territoire=territory[1] if territory else rng.choice(self.departements)[1],
            theme=theme[1] if theme else "",
            theme_min=theme[1].lower() if theme else "",
        )
        return _shorten(title, 200)

    def _thread(self, thread_id: int, tables: dict[str, list[dict]], duplicates: list[int]) -> None:
        rng, corpus, people = self.rng, self.corpus, self.people
        created = self.created[thread_id]
        age = self.now - created
        kind = KIND_PICKER.pick(rng)
        dataset_id, organisation_id = self._subject(kind)
        author = self.author_picker.pick(rng)
        category = rng.choice(QUALITY_CATEGORIES) if kind == ThreadKind.QUALITY_ISSUE else None
        want = rng.choice(list(RequestWant)) if kind == ThreadKind.DATA_REQUEST else None
        territory = theme = None
        if kind == ThreadKind.MISSING_DATA or want == RequestWant.EXTRACT or rng.random() < 0.15:
            territory = rng.choice(self.departements)
        if kind == ThreadKind.MISSING_DATA or rng.random() < 0.1:
            theme = rng.choice(self.themes)
        restricted = kind == ThreadKind.DATA_REQUEST and rng.random() < RESTRICTED_SHARE
        title = self._title(kind, dataset_id, category, want, territory, theme)
        use_case = None
        if kind in (ThreadKind.DATA_REQUEST, ThreadKind.MISSING_DATA) or rng.random() < 0.2:
            use_case = rng.choice(list(UseCase)).value
        row = {
            "id": thread_id,
            "kind": kind.value,
            "status": ThreadStatus.NEW.value,
            "is_open": True,
            "visibility": (Visibility.RESTRICTED if restricted else Visibility.PUBLIC).value,
            "author_id": author,
            "dataset_id": dataset_id,
            "organisation_id": organisation_id,
            "assignee_id": None,
            "territory_code": territory[0] if territory else None,
            "use_case": use_case,
            "quality_category": category.code if category else None,
            "request_want": want.value if want else None,
            "wished_on": (created + timedelta(days=rng.randint(30, 150))).date()
            if want and rng.random() < 0.3
            else None,
            "due_at": self._due(kind, created) if organisation_id else None,
            "deadline_extended": False,
            "duplicate_of_id": None,
            "resolution_dataset_id": None,
            "decline_reason": None,
            "votes_count": 0,
            "messages_count": 0,
            "public_messages_count": 0,
            "followers_count": 1,  # the author follows
            "created_at": created,
            "received_at": created,
            "first_response_at": None,
            "answered_at": None,
            "last_activity_at": created,
            "closed_at": None,
            "udata_id": None,
            "version": 1,
            "title": title,
            "search_title": normalise(title),
            "search_text": "",
        }
        play = _Play(self, thread_id, row, author)
        play.event(author, "created", created, kind=kind.value, organisation_id=organisation_id)
        play.post(author, f"open:{kind.value}", created, first=True, paragraphs=rng.choice((1, 1, 2)), greeting=0.8)
        tables["subscription"].append({"thread_id": thread_id, "user_id": author, "created_at": created})
        if theme:
            tables["thread_theme"].append({"thread_id": thread_id, "theme_id": theme[0]})
        if want and dataset_id and rng.random() < 0.1:
            related = {self.dataset_pickers[organisation_id].pick(rng) for _ in range(rng.randint(1, 3))}
            for related_id in sorted(related - {dataset_id}):
                tables["thread_related_dataset"].append({"thread_id": thread_id, "dataset_id": related_id})

        long = rng.random() < LONG_THREAD_SHARE
        conversation = LONG_THREAD_MESSAGES if long else MESSAGE_COUNT_PICKER.pick(rng)
        steps = conversation + 4
        mean_gap = min(timedelta(hours=5) if long else timedelta(days=3), age * 0.8 / steps)
        clock = [created]

        def tick() -> datetime:
            gap = timedelta(seconds=rng.expovariate(1 / max(mean_gap.total_seconds(), 1.0)))
            clock[0] = min(clock[0] + gap, self.now - timedelta(seconds=1))
            return clock[0]

        # A missing data thread has no service: a curator gives it to one (route_thread), most of the time.
        if organisation_id is None and age > timedelta(days=2) and rng.random() < 0.85:
            organisation_id = self.organisation_picker.pick(rng)
            at = tick()
            row["organisation_id"] = organisation_id
            row["due_at"] = self._due(kind, created)
            row["received_at"] = at  # threads.answers: its service's delays run from the routing
            play.touch(at)
            play.event(
                rng.choice(people.curators),
                "routed",
                at,
                previous_organisation_id=None,
                organisation_id=organisation_id,
                organisation_name=self.organisation_names[organisation_id],
            )
        members = people.members.get(organisation_id, [])
        answered = bool(members) and rng.random() < _answer_rate(age)
        extend = kind == ThreadKind.DATA_REQUEST and answered and rng.random() < 0.1
        first_official = 1 if rng.random() < 0.65 else rng.randint(1, max(1, conversation - 1))
        assigned = False
        for position in range(1, conversation):
            at = tick()
            if not members:  # nobody answers for a service: users and curators talk
                if rng.random() < 0.15:
                    play.post(rng.choice(people.curators), "other", at)
                else:
                    play.post(self._someone_else(author) if rng.random() < 0.4 else author, "author", at)
                continue
            responded = row["first_response_at"] is not None
            if answered and not responded and position >= first_official:
                member = rng.choice(members)
                if (
                    extend and not row["deadline_extended"] and at <= deadlines.legal_due_at(created)
                ):  # within the month
                    previous = row["due_at"]
                    row["due_at"] = deadlines.legal_due_at(created, extended=True)
                    row["deadline_extended"] = True
                    text = corpus.body("extend")
                    play.post(
                        member, "extend", at, moves_status=False, text=text, purpose=MessagePurpose.EXTENSION_MOTIVE
                    )
                    play.event(
                        member,
                        "deadline_extended",
                        at,
                        previous_due_at=previous.isoformat(),
                        due_at=row["due_at"].isoformat(),
                        motive=text[0],
                    )
                else:
                    play.post(member, "official", at)
                continue
            draw = rng.random()
            if draw < 0.12:
                play.post(rng.choice(members), "internal", at, internal=True, greeting=0, closing=0)
            elif responded and draw < 0.45:
                member = rng.choice(members)
                if row["status"] in (ThreadStatus.ACKNOWLEDGED, ThreadStatus.IN_PROGRESS) and rng.random() < 0.12:
                    play.change(member, ThreadStatus.NEEDS_INFO, at)  # ask_details
                    play.post(member, "ask", at, moves_status=False, purpose=MessagePurpose.DETAILS_REQUEST)
                else:
                    play.post(member, "official", at)
                    if row["status"] == ThreadStatus.ACKNOWLEDGED and rng.random() < 0.25:
                        play.change(member, ThreadStatus.IN_PROGRESS, tick())
            elif draw < 0.75:
                play.post(author, "author", at)
            else:
                play.post(self._someone_else(author), "other", at)
            if responded and not assigned and rng.random() < 0.15:
                assigned = True
                assignee = rng.choice(members)
                row["assignee_id"] = assignee
                play.touch(at)
                play.event(
                    rng.choice(members), "assigned", at, assignee_id=assignee, assignee_name=people.names[assignee]
                )

        self._close(play, kind, age, members, answered, dataset_id, organisation_id, tick, duplicates)
        self._votes_and_followers(thread_id, row, author, created, tables)
        row["search_text"] = search_text_of(title, play.bodies)
        row["version"] = 1 + play.changes
        row["response_working_days"], row["response_days"] = answers.response_delays(
            row["received_at"], row["first_response_at"]
        )
        tables["thread"].append(row)
        tables["message"].extend(play.messages)
        tables["thread_event"].extend(play.events)
        if row["visibility"] == Visibility.PUBLIC:
            self.public_by_subject[_subject_key(row)].append(thread_id)

    def _close(self, play, kind, age, members, answered, dataset_id, organisation_id, tick, duplicates) -> None:
        rng, row = self.rng, play.row
        if not answered:  # no answer: some authors give up and withdraw their thread
            if age > timedelta(days=90) and rng.random() < 0.3:
                play.change(play.author, ThreadStatus.WITHDRAWN, tick())
            return
        if rng.random() >= _close_rate(age):
            return
        status = CLOSED_PICKER.pick(rng)
        at = tick()
        member = rng.choice(members)
        if status == ThreadStatus.WITHDRAWN:
            play.change(play.author, status, at)
            return
        if status == ThreadStatus.DUPLICATE:
            original = self._original(play.id, row)
            if original is None:
                status = ThreadStatus.RESOLVED
            else:
                row["duplicate_of_id"] = original
                play.change(member, status, at, original_id=original)
                duplicates.append(play.id)
                if rng.random() < 0.4:
                    play.post(member, "duplicate", at, moves_status=False)
                return
        if status == ThreadStatus.DECLINED:
            reason = rng.choice(list(DeclineReason)).value
            row["decline_reason"] = reason
            text = self.corpus.body("decline")
            play.change(member, status, at, reason=reason, motive=text[0])
            play.post(member, "decline", at, moves_status=False, text=text)
            return
        payload = {}
        if kind in (ThreadKind.DATA_REQUEST, ThreadKind.MISSING_DATA) and rng.random() < 0.3:
            row["resolution_dataset_id"] = self.dataset_pickers[organisation_id].pick(rng)
            payload["resolution_dataset_id"] = row["resolution_dataset_id"]
        play.change(member, status, at, **payload)
        if rng.random() < 0.6:
            play.post(member, "resolve", at, moves_status=False)

    def _original(self, thread_id: int, row: dict) -> int | None:
        """An earlier public thread on the same subject, already written (it may be an original or a duplicate
        itself, as the service allows)."""
        candidates = self.public_by_subject.get(_subject_key(row))
        if not candidates:
            return None
        for _ in range(4):
            candidate = self.rng.choice(candidates)
            if candidate < thread_id:
                return candidate
        return None

    def _votes_and_followers(self, thread_id, row, author, created, tables) -> None:
        rng = self.rng
        draw = rng.random()
        if draw < 0.6:
            votes = 0
        elif draw < 0.9:
            votes = rng.randint(1, 3)
        elif draw < 0.99:
            votes = rng.randint(4, 15)
        else:
            votes = rng.randint(16, 200)
        span = max((self.now - created).total_seconds(), 1.0)
        voters = [u for u in rng.sample(self.people.authors, votes + 1) if u != author][:votes]
        for user_id in voters:
            at = created + timedelta(seconds=rng.uniform(0, span))
            tables["vote"].append({"thread_id": thread_id, "user_id": user_id, "created_at": at})
        row["votes_count"] = len(voters)
        if rng.random() < 0.25:
            followers = {self._someone_else(author) for _ in range(rng.randint(1, 3))}
            for user_id in sorted(followers):
                at = created + timedelta(seconds=rng.uniform(0, span))
                tables["subscription"].append({"thread_id": thread_id, "user_id": user_id, "created_at": at})
            row["followers_count"] += len(followers)

    def _someone_else(self, author: int) -> int:
        while True:
            user_id = self.rng.choice(self.people.authors)
            if user_id != author:
                return user_id

    def _due(self, kind: ThreadKind, received: datetime) -> datetime:
        """services.initial_due_at, without the application context it reads its setting from."""
        if kind == ThreadKind.DATA_REQUEST:
            return deadlines.legal_due_at(received)
        return deadlines.service_due_at(received, SERVICE_TARGET_WORKING_DAYS)


KIND_PICKER = Weighted(KIND_WEIGHTS, KIND_WEIGHTS.values())
MESSAGE_COUNT_PICKER = Weighted(MESSAGE_COUNTS, MESSAGE_COUNTS.values())
CLOSED_PICKER = Weighted(CLOSED_WEIGHTS, CLOSED_WEIGHTS.values())


def _subject_key(row: dict) -> tuple:
    if row["dataset_id"]:
        return ("dataset", row["dataset_id"])
    if row["organisation_id"]:
        return ("organisation", row["organisation_id"])
    return ("territory", row["territory_code"])


def _answer_rate(age: timedelta) -> float:
    if age < timedelta(days=2):
        return 0.25
    if age < timedelta(days=15):
        return 0.6
    if age < timedelta(days=60):
        return 0.8
    return 0.9


def _close_rate(age: timedelta) -> float:
    if age < timedelta(days=14):
        return 0.15
    if age < timedelta(days=60):
        return 0.5
    return 0.9


def number(value: int) -> str:
    return f"{value:,}"


# Checks -----------------------------------------------------------------------------------------------------

VERIFIED_FIGURES = [*stored_figures.COUNTERS, *answers.FIGURES]
CONSISTENCY_CHECKS = {
    "is_open and closed_at follow the status": (
        "SELECT count(*) FROM thread WHERE is_open != (status IN ('new', 'acknowledged', 'needs_info', "
        "'in_progress')) OR (closed_at IS NULL) != is_open"
    ),
    "last_activity_at ≥ last public message": (
        "SELECT count(*) FROM thread t JOIN (SELECT thread_id, max(created_at) at FROM message WHERE NOT internal "
        "GROUP BY thread_id) m ON m.thread_id = t.id WHERE t.last_activity_at < m.at"
    ),
    "restricted only for data requests": (
        "SELECT count(*) FROM thread WHERE visibility = 'restricted' AND kind != 'data_request'"
    ),
}


def check_consistency(session, sample: int = 300, seed: int = 1) -> list[tuple[str, int]]:
    """Rows that break what the services maintain: (check, rows breaking it) for every check. The figures kept
    in the thread rows (counters, received, first response, answered) are checked as `reports verify` does."""
    drifts = Counter(difference.figure for difference in stored_figures.differences(session))
    results = [(f"{figure} = what its rows say (reports verify)", drifts[figure]) for figure in VERIFIED_FIGURES]
    results.append(("groups of similar requests = computed from scratch (reports verify)", len(demand.differences())))
    results += [(name, session.scalar(sa.text(sql))) for name, sql in CONSISTENCY_CHECKS.items()]
    ids = session.scalars(sa.select(Thread.id)).all()
    chosen = random.Random(seed).sample(ids, min(sample, len(ids)))
    wrong_text = wrong_title = wrong_due = 0
    for thread in session.scalars(sa.select(Thread).where(Thread.id.in_(chosen))):
        bodies = session.scalars(
            sa.select(Message.body)
            .where(Message.thread_id == thread.id, Message.internal.is_(False))
            .order_by(Message.created_at, Message.id)
        ).all()
        wrong_text += thread.search_text != search_text_of(thread.title, list(bodies))
        wrong_title += thread.search_title != normalise(thread.title)
        if thread.kind == ThreadKind.DATA_REQUEST and thread.due_at is not None:
            wrong_due += thread.due_at != deadlines.legal_due_at(thread.created_at, extended=thread.deadline_extended)
    session.rollback()
    results.append((f"search_text = search_text_of(title, bodies) ({len(chosen)} sampled)", wrong_text))
    results.append((f"search_title = normalise(title) ({len(chosen)} sampled)", wrong_title))
    results.append((f"data request due_at = created + 1 (or 2) months ({len(chosen)} sampled)", wrong_due))
    return results


def advance_sequences(session, tables) -> None:
    """Rows written with their ids leave PostgreSQL's id sequences behind: move each past its table's largest
    id, so that the application's own inserts go on from there (SQLite needs nothing)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )
    session.commit()


def fts_integrity(session) -> str:
    if session.get_bind().dialect.name != "sqlite":
        return "n/a"
    fts = THREAD_SEARCH.fts_table
    try:
        session.execute(sa.text(f"INSERT INTO {fts}({fts}) VALUES ('integrity-check')"))
        session.rollback()
    except sa.exc.DatabaseError as error:
        session.rollback()
        return f"FAILED ({error.orig})"
    return "OK"


def summary(session) -> dict[str, object]:
    """Figures of the generated data, for the report."""
    scalar = session.scalar
    counts = {
        name: scalar(sa.select(sa.func.count()).select_from(table))
        for name, table in (
            ("threads", Thread.__table__),
            ("messages", Message.__table__),
            ("events", ThreadEvent.__table__),
            ("votes", Vote.__table__),
            ("subscriptions", Subscription.__table__),
        )
    }
    counts["open"] = scalar(sa.select(sa.func.count()).where(Thread.is_open.is_(True)))
    counts["restricted"] = scalar(sa.select(sa.func.count()).where(Thread.visibility == Visibility.RESTRICTED))
    counts["overdue"] = scalar(sa.select(sa.func.count()).where(Thread.is_open.is_(True), Thread.due_at < utcnow()))
    counts["unrouted"] = scalar(sa.select(sa.func.count()).where(Thread.organisation_id.is_(None)))
    counts["internal notes"] = scalar(sa.select(sa.func.count()).where(Message.internal.is_(True)))
    counts["official answers"] = scalar(sa.select(sa.func.count()).where(Message.as_organisation_id.isnot(None)))
    counts["long threads"] = scalar(sa.select(sa.func.count()).where(Thread.messages_count >= LONG_THREAD_MESSAGES))
    counts["kinds"] = dict(session.execute(sa.select(Thread.kind, sa.func.count()).group_by(Thread.kind)).all())
    counts["statuses"] = dict(session.execute(sa.select(Thread.status, sa.func.count()).group_by(Thread.status)).all())
    top = session.execute(
        sa.select(Thread.organisation_id, sa.func.count())
        .where(Thread.organisation_id.isnot(None))
        .group_by(Thread.organisation_id)
        .order_by(sa.func.count().desc())
        .limit(1)
    ).one()
    counts["busiest organisation threads"] = top[1]
    top_dataset = session.execute(
        sa.select(sa.func.count())
        .where(Thread.dataset_id.isnot(None))
        .group_by(Thread.dataset_id)
        .order_by(sa.func.count().desc())
        .limit(1)
    ).scalar()
    counts["busiest dataset threads"] = top_dataset
    counts["datasets with threads"] = scalar(sa.select(sa.func.count(sa.distinct(Thread.dataset_id))))
    session.rollback()
    return counts
