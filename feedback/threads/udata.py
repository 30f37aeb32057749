"""Import of existing data.gouv.fr discussions (udata `GET /api/1/discussions/` pages).

Each discussion on a dataset of the catalogue becomes a `question` thread on it, with its messages, dates
and authors. Authors get placeholder accounts keyed by their data.gouv.fr id, which cannot log in; a
message posted for an organisation counts as the producer's answer. Closed discussions become `resolved`
at their closing date. A discussion already imported (same udata id) is left as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa

from feedback.accounts.models import Organisation, User
from feedback.catalogue.models import Dataset
from feedback.catalogue.sources import RejectedRow, parse_datetime
from feedback.extensions import db
from feedback.markdown import render_markdown
from feedback.search import normalise
from feedback.threads import answers
from feedback.threads.models import (
    THREAD_SEARCH,
    Message,
    MessagePurpose,
    Subscription,
    Thread,
    ThreadKind,
    ThreadStatus,
    Visibility,
)
from feedback.threads.services import initial_due_at, record_event, search_text_of


class UnreadableDiscussions(Exception):
    """The file cannot be read as udata discussion pages; the message says why, in French."""


@dataclass
class DiscussionImportSummary:
    imported: int = 0
    already: int = 0
    messages: int = 0
    unknown_datasets: list[tuple[str, str]] = field(default_factory=list)  # (discussion id, dataset id)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (discussion id or position, reason)

    def line(self) -> str:
        return (
            f"{self.imported} discussion(s) importée(s) ({self.messages} message(s)), {self.already} déjà présente(s), "
            f"{len(self.unknown_datasets)} sur un jeu de données absent du catalogue, {len(self.rejected)} rejetée(s)"
        )


def read_discussion_pages(path: Path) -> list[dict]:
    """The discussions of a file holding one udata page `{data: [...]}` or a list of pages."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableDiscussions(f"{path} : fichier introuvable")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UnreadableDiscussions(f"{path} : ce n'est pas un fichier texte UTF-8") from None
    except json.JSONDecodeError as exc:
        raise UnreadableDiscussions(
            f"{path} : JSON illisible (ligne {exc.lineno}, colonne {exc.colno} : {exc.msg})"
        ) from None
    pages = document if isinstance(document, list) else [document]
    discussions = []
    for number, page in enumerate(pages, start=1):
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise UnreadableDiscussions(
                f"{path} : la page {number} n'est pas une page de discussions udata (un objet avec une liste « data »)"
            )
        discussions.extend(page["data"])
    return discussions


def _name(person: dict | None) -> str:
    if not person:
        return "Utilisateur de data.gouv.fr"
    name = f"{person.get('first_name') or ''} {person.get('last_name') or ''}".strip()
    return name or person.get("slug") or "Utilisateur de data.gouv.fr"


class Post(NamedTuple):
    data: dict  # the udata message
    posted_on: datetime | None

    @property
    def content(self) -> str:
        return (self.data.get("content") or "").strip()


@dataclass
class Discussion:
    """A udata discussion read and checked, ready to become a thread."""

    item: dict
    udata_id: str
    title: str
    dataset: Dataset
    created_at: datetime
    closed_at: datetime | None
    posts: list[Post]


class DiscussionImport:
    def __init__(self) -> None:
        self.summary = DiscussionImportSummary()
        self.users: dict[str, User] = {}
        self.organisations = {
            o.datagouv_id: o
            for o in db.session.scalars(sa.select(Organisation).where(Organisation.datagouv_id.isnot(None)))
        }

    def placeholder(self, person: dict | None) -> User:
        """The account standing for a data.gouv.fr user: no password, inactive, an address that cannot receive."""
        key = str((person or {}).get("id") or "anonyme")[:24].lower()
        user = self.users.get(key)
        if user is None:
            user = db.session.scalars(sa.select(User).where(User.datagouv_id == key)).first()
        if user is None:
            user = User(
                email=f"{key}@utilisateurs.data.gouv.invalid",
                name=_name(person)[:120],
                password_hash=None,
                active=False,
                confirmed=False,
                datagouv_id=key,
                employer_name="",
            )
            db.session.add(user)
            db.session.flush()
        self.users[key] = user
        return user

    def import_discussion(self, item, position: str) -> None:
        """One discussion, step by step: read it (or say why not), its thread, its messages, its closing."""
        discussion = self._read(item, position)
        if discussion is None:
            return
        author = self.placeholder(item.get("user"))
        thread = self._thread(discussion, author)
        bodies = self._messages(thread, discussion)
        self._close(thread, discussion)
        db.session.add(Subscription(thread_id=thread.id, user_id=author.id))
        thread.followers_count = 1
        thread.search_text = search_text_of(thread.title, bodies)
        db.session.flush()
        THREAD_SEARCH.index(db.session, [thread.id])
        self.summary.imported += 1

    def _read(self, item, position: str) -> Discussion | None:
        """The discussion to import, or None (counted as already there, on an unknown dataset, or rejected)."""
        if not isinstance(item, dict) or not item.get("id"):
            self.summary.rejected.append((position, "discussion sans identifiant"))
            return None
        udata_id = str(item["id"])[:24]
        if db.session.scalar(sa.select(Thread.id).where(Thread.udata_id == udata_id)) is not None:
            self.summary.already += 1
            return None
        subject = item.get("subject") or {}
        dataset_id = str(subject.get("id") or "").lower()
        dataset = None
        if (subject.get("class") or "Dataset") == "Dataset" and dataset_id:
            dataset = db.session.scalars(sa.select(Dataset).where(Dataset.catalogue_id == dataset_id)).first()
        if dataset is None:
            self.summary.unknown_datasets.append((udata_id, dataset_id or "?"))
            return None
        try:
            created_at = parse_datetime(item.get("created"), "created")
            closed_at = parse_datetime(item.get("closed"), "closed")
            posts = [
                Post(post, parse_datetime(post.get("posted_on"), "posted_on"))
                for post in item.get("discussion") or []
                if isinstance(post, dict)
            ]
        except RejectedRow as error:
            self.summary.rejected.append((udata_id, str(error)))
            return None
        if created_at is None or not any(post.content for post in posts):
            self.summary.rejected.append((udata_id, "discussion sans date ou sans message"))
            return None
        title = (item.get("title") or "").strip()[:200] or "Discussion importée de data.gouv.fr"
        return Discussion(item, udata_id, title, dataset, created_at, closed_at, posts)

    def _thread(self, discussion: Discussion, author: User) -> Thread:
        """The question on the dataset, addressed to its producer, and its opening event."""
        created_at, dataset = discussion.created_at, discussion.dataset
        thread = Thread(
            kind=ThreadKind.QUESTION.value,
            title=discussion.title,
            search_title=normalise(discussion.title),
            status=ThreadStatus.NEW.value,
            is_open=True,
            visibility=Visibility.PUBLIC.value,
            author_id=author.id,
            dataset_id=dataset.id,
            organisation_id=dataset.organisation_id,
            created_at=created_at,
            received_at=created_at,
            last_activity_at=created_at,
            due_at=initial_due_at(ThreadKind.QUESTION, created_at) if dataset.organisation_id else None,
            udata_id=discussion.udata_id,
            search_text="",
        )
        db.session.add(thread)
        db.session.flush()
        record_event(
            thread,
            author,
            "created",
            kind=ThreadKind.QUESTION.value,
            organisation_id=thread.organisation_id,
            imported_from="data.gouv.fr",
            at=created_at,
        )
        return thread

    def _messages(self, thread: Thread, discussion: Discussion) -> list[str]:
        """The messages of the discussion, in order; a message posted as the organisation the discussion is
        addressed to is that service's answer (`threads.answers`). Returns their texts."""
        bodies = []
        for post in discussion.posts:
            if not post.content:
                continue
            poster = self.placeholder(post.data.get("posted_by"))
            organisation = self.organisations.get(
                str((post.data.get("posted_by_organization") or {}).get("id") or "").lower()
            )
            posted_on = post.posted_on or discussion.created_at
            for_service = organisation is not None and organisation.id == thread.organisation_id
            message = Message(
                thread_id=thread.id,
                author_id=poster.id,
                body=post.content,
                body_html=str(render_markdown(post.content)),
                as_organisation_id=organisation.id if organisation else None,
                purpose=(MessagePurpose.ANSWER if for_service else MessagePurpose.REPLY).value,
                created_at=posted_on,
            )
            db.session.add(message)
            thread.messages_count += 1
            thread.public_messages_count += 1
            thread.last_activity_at = max(thread.last_activity_at, posted_on)
            answers.note_message(thread, message)
            bodies.append(post.content)
            self.summary.messages += 1
        return bodies

    def _close(self, thread: Thread, discussion: Discussion) -> None:
        """A closed discussion is resolved; an open one that the service answered is acknowledged."""
        if discussion.closed_at is None:
            if thread.first_response_at is not None:
                thread.status = ThreadStatus.ACKNOWLEDGED.value
            return
        thread.status = ThreadStatus.RESOLVED.value
        thread.is_open = False
        thread.closed_at = discussion.closed_at
        closed_by = discussion.item.get("closed_by")
        record_event(
            thread,
            self.placeholder(closed_by) if closed_by else None,
            "status_changed",
            at=discussion.closed_at,
            previous=ThreadStatus.NEW.value,
            status=ThreadStatus.RESOLVED.value,
            automatic=False,
            # Who closed a discussion on data.gouv.fr is not known to be the service: its answer, if any, is
            # its messages.
            by_service=False,
            imported_from="data.gouv.fr",
        )


def import_discussions(paths: list[Path]) -> DiscussionImportSummary:
    """Import every file; raises UnreadableDiscussions (nothing to keep) if one cannot be read."""
    run = DiscussionImport()
    for path in paths:
        for number, item in enumerate(read_discussion_pages(path), start=1):
            run.import_discussion(item, f"{Path(path).name}, discussion {number}")
    db.session.flush()
    return run.summary
