"""Atom feeds of threads: of one thread, a dataset, an organisation, and of any filter of /threads.
Public content only.

A feed URL is shared and read by feed readers without a session: every feed is built for an anonymous
visitor, whoever asks, so that it never shows more than public content (no restricted thread, no internal
note, no hidden message)."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, request, url_for
from markupsafe import Markup, escape
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from feedback.accounts.models import User
from feedback.accounts.services import organisation_by_slug
from feedback.catalogue.models import Dataset
from feedback.catalogue.resolver import dataset_of_path
from feedback.database import utcnow
from feedback.extensions import db
from feedback.i18n import french_date, french_datetime
from feedback.threads import queries
from feedback.threads.models import (
    DeclineReason,
    Message,
    MessagePurpose,
    Thread,
    ThreadEvent,
    ThreadKind,
    ThreadStatus,
)
from feedback.threads.views import filters_from_request
from feedback.threads.workflow import can

blueprint = Blueprint("feeds", __name__)

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
FEED_SIZE = 50
# Nobody is signed in to a feed: these filters of /threads speak of the person who asks.
PERSONAL_FILTERS = ("mes-fils", "assignes")
# Query arguments of /threads that do not choose threads.
NOT_FILTERS = ("page", "tri", *PERSONAL_FILTERS)
# Characters that XML 1.0 does not allow, whatever the escaping.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
PLATFORM = "Retours sur les données Ecosphères"


@dataclass
class Entry:
    id: str
    title: str
    link: str
    updated: datetime
    published: datetime | None = None
    author: str | None = None
    content: str = ""  # HTML, already safe
    categories: list[tuple[str, str]] = field(default_factory=list)  # (term, label)


@dataclass
class Feed:
    title: str
    self_url: str
    page_url: str
    entries: list[Entry]
    subtitle: str = ""

    @cached_property
    def updated(self) -> datetime:
        """The newest entry's date; an empty feed was last updated now."""
        return max((entry.updated for entry in self.entries), default=None) or utcnow().replace(microsecond=0)


# The feeds ----------------------------------------------------------------------------------------------


@blueprint.get("/fils/<int:thread_id>/flux.atom")
def thread_feed(thread_id: int):
    thread = db.session.scalars(
        sa.select(Thread)
        .where(Thread.id == thread_id)
        .options(joinedload(Thread.organisation), joinedload(Thread.dataset))
    ).first()
    if thread is None or not can(None, "view", thread):
        abort(404)  # a restricted thread does not exist for a feed
    page_url = absolute(url_for("threads.thread", thread_id=thread.id))
    about = [thread.kind_label, thread.organisation.name if thread.organisation else None]
    return atom_response(
        Feed(
            title=f"Fil n° {thread.id} : {thread.title}",
            subtitle=" · ".join(part for part in about if part),
            self_url=absolute(url_for("feeds.thread_feed", thread_id=thread.id)),
            page_url=page_url,
            entries=thread_entries(thread, page_url),
        )
    )


@blueprint.get("/jeux-de-donnees/<identifier>/flux.atom")
def dataset_feed(identifier: str):
    dataset = _dataset_or_404(identifier)
    filters = queries.ThreadFilters(dataset=dataset.catalogue_id)
    return atom_response(
        Feed(
            title=f"Fils de discussion sur « {dataset.title} »",
            subtitle=PLATFORM,
            self_url=absolute(url_for("feeds.dataset_feed", identifier=dataset.catalogue_id)),
            page_url=absolute(url_for("catalogue.dataset", identifier=dataset.catalogue_id)),
            entries=latest_thread_entries(filters),
        )
    )


@blueprint.get("/organisations/<slug>/flux.atom")
def organisation_feed(slug: str):
    organisation = organisation_by_slug(slug)
    if organisation is None:
        abort(404)
    filters = queries.ThreadFilters(producer=organisation.slug)
    return atom_response(
        Feed(
            title=f"Fils adressés à {organisation.name}",
            subtitle=PLATFORM,
            self_url=absolute(url_for("feeds.organisation_feed", slug=organisation.slug)),
            page_url=absolute(url_for("catalogue.organisation", slug=organisation.slug)),
            entries=latest_thread_entries(filters),
        )
    )


@blueprint.get("/fils/flux.atom")
def threads_feed():
    """The threads of any filter of /threads (the same query string), latest activity first."""
    filters = dataclasses.replace(filters_from_request(), mine=False, assigned=False, sort="activite")
    kept = filter_arguments(request.args)
    return atom_response(
        Feed(
            title=filters_title(filters),
            subtitle=PLATFORM,
            self_url=absolute(url_for("feeds.threads_feed") + _query(kept)),
            page_url=absolute(url_for("threads.list_threads") + _query(kept)),
            entries=latest_thread_entries(filters),
        )
    )


def threads_feed_url(args: MultiDict) -> str:
    """The feed of the /threads filter that `args` (a query string) chooses, for the list page's links."""
    return url_for("feeds.threads_feed") + _query(filter_arguments(args))


def filter_arguments(args: MultiDict) -> list[tuple[str, str]]:
    """The query arguments that choose threads, in a stable order (the feed's id does not depend on it)."""
    return sorted((key, value) for key, value in args.items(multi=True) if value and key not in NOT_FILTERS)


def _query(arguments: list[tuple[str, str]]) -> str:
    return "?" + urlencode(arguments) if arguments else ""


def _dataset_or_404(identifier: str) -> Dataset:
    """The dataset of a catalogue URL: its data.gouv.fr id or its slug, as on its page."""
    found = dataset_of_path(identifier)
    if found is None:
        abort(404)
    return found


def filters_title(filters: queries.ThreadFilters) -> str:
    parts = []
    if filters.kind in {k.value for k in ThreadKind}:
        parts.append(ThreadKind(filters.kind).label)
    if filters.status in {s.value for s in ThreadStatus}:
        parts.append(f"statut « {ThreadStatus(filters.status).label} »")
    if filters.state in ("ouverts", "clos"):
        parts.append(filters.state)
    if filters.overdue:
        parts.append("en retard")
    if filters.q:
        parts.append(f"« {filters.q} »")
    if not parts and filters.active:
        parts.append("sélection")
    return "Fils de discussion" + (" : " + ", ".join(parts) if parts else "")


# Entries ------------------------------------------------------------------------------------------------


def thread_entries(thread: Thread, page_url: str) -> list[Entry]:
    """A thread's public messages and told events, newest first."""
    return [
        _message_entry(entry.item, page_url) if isinstance(entry.item, Message) else _event_entry(entry.item, page_url)
        for entry in queries.public_timeline(thread, FEED_SIZE)
    ]


def _message_entry(message: Message, page_url: str) -> Entry:
    link = f"{page_url}#message-{message.id}"
    if message.as_organisation is not None:
        title = f"{message.purpose_label} de {message.as_organisation.name}"
        author = f"{message.author.name} ({message.as_organisation.name})"
    elif message.purpose != MessagePurpose.REPLY:
        title = f"{message.purpose_label} de {message.author.name}"
        author = message.author.name
    else:
        title = f"Message de {message.author.name}"
        author = message.author.name
    return Entry(
        id=link,
        title=title,
        link=link,
        updated=message.edited_at or message.created_at,
        published=message.created_at,
        author=author,
        content=message.body_html,
    )


def _event_entry(event: ThreadEvent, page_url: str) -> Entry:
    payload = event.payload or {}
    who = event.actor.name if event.actor else "La plateforme"
    if event.type == "status_changed":
        label = _label(ThreadStatus, payload.get("status"))
        title = f"Statut : {label}"
        if payload.get("automatic"):
            text = escape(f"Le fil passe au statut « {label} »")
        else:
            text = escape(f"{who} a passé le fil au statut « {label} »")
        if payload.get("reason"):
            text += escape(f" (motif : {_label(DeclineReason, payload['reason'])})")
        if payload.get("original_id"):
            original = absolute(url_for("threads.thread", thread_id=payload["original_id"]))
            text += Markup(' : doublon du <a href="{}">fil n° {}</a>').format(original, payload["original_id"])
    elif event.type in ("transferred", "routed"):
        verb = "transféré" if event.type == "transferred" else "adressé"
        title = f"Fil {verb} à {payload.get('organisation_name', '')}"
        text = escape(f"{who} a {verb} le fil à {payload.get('organisation_name', '')}")
    else:  # deadline_extended
        title = "Délai de réponse prolongé"
        text = escape(f"{who} a prolongé le délai de réponse")
        if payload.get("due_at"):
            text += escape(f" jusqu'au {french_date(datetime.fromisoformat(payload['due_at']))}")
    return Entry(
        id=f"{page_url}#evenement-{event.id}",
        title=title,
        link=page_url,
        updated=event.created_at,
        published=event.created_at,
        author=event.actor.name if event.actor else None,
        content=Markup("<p>{}.</p>").format(text),
    )


def _label(enumeration, value) -> str:
    try:
        return enumeration(value).label
    except ValueError:
        return str(value)


def latest_thread_entries(filters: queries.ThreadFilters) -> list[Entry]:
    """The public threads of `filters`, latest activity first, one entry each: the thread as it stands and its
    opening message. The filters' query, then the authors and the opening messages in one query each."""
    filters = dataclasses.replace(filters, mine=False, assigned=False, sort="activite")
    threads = queries.search_threads(filters, None, 1, FEED_SIZE).items
    if not threads:
        return []
    authors = {
        user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_({t.author_id for t in threads})))
    }
    openings = queries.openings(threads, None)
    return [_thread_entry(thread, authors.get(thread.author_id), openings.get(thread.id)) for thread in threads]


def _thread_entry(thread: Thread, author: User | None, opening: Message | None) -> Entry:
    link = absolute(url_for("threads.thread", thread_id=thread.id))
    facts = [
        escape(thread.kind_label),
        escape(f"statut « {thread.status_label} »"),
        escape(thread.organisation.name if thread.organisation else "service à désigner"),
    ]
    if thread.dataset is not None:
        dataset_url = absolute(url_for("catalogue.dataset", identifier=thread.dataset.catalogue_id))
        facts.append(Markup('jeu de données <a href="{}">{}</a>').format(dataset_url, thread.dataset.title))
    count = thread.public_messages_count
    facts.append(escape(f"{count} message{'s' if count > 1 else ''}"))
    facts.append(escape(f"dernière activité le {french_datetime(thread.last_activity_at)}"))
    content = Markup("<p>{}</p>").format(Markup(" · ").join(facts))
    if opening is not None:
        # body_html is render_markdown's output, sanitised by nh3's allow-list when the message was written.
        content += Markup(opening.body_html)  # nosec B704
    return Entry(
        id=link,
        title=thread.title,
        link=link,
        updated=thread.last_activity_at,
        published=thread.created_at,
        author=author.name if author else None,
        content=content,
        categories=[(thread.kind, thread.kind_label), (thread.status, thread.status_label)],
    )


# Writing Atom -------------------------------------------------------------------------------------------


def absolute(path: str) -> str:
    """A link that works outside the site (feed readers): `FEEDBACK_BASE_URL` and the path."""
    return current_app.config["FEEDBACK_BASE_URL"].rstrip("/") + path


def rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def xml_text(value) -> str:
    """Text that XML can hold: the escaping is the serialiser's, the characters XML forbids are dropped."""
    return NOT_XML.sub("", str(value))


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, {key: xml_text(value) for key, value in attributes.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def atom_document(feed: Feed) -> bytes:
    root = ET.Element("feed", {"xmlns": ATOM_NAMESPACE, XML_LANG: "fr"})
    _add(root, "id", feed.self_url)
    _add(root, "title", feed.title)
    if feed.subtitle:
        _add(root, "subtitle", feed.subtitle)
    _add(root, "updated", rfc3339(feed.updated))
    _add(root, "link", rel="self", type="application/atom+xml", href=feed.self_url)
    _add(root, "link", rel="alternate", type="text/html", href=feed.page_url)
    _add(_add(root, "author"), "name", PLATFORM)
    _add(root, "generator", PLATFORM)
    for entry in feed.entries:
        element = _add(root, "entry")
        _add(element, "id", entry.id)
        _add(element, "title", entry.title)
        _add(element, "link", rel="alternate", type="text/html", href=entry.link)
        _add(element, "updated", rfc3339(entry.updated))
        if entry.published is not None:
            _add(element, "published", rfc3339(entry.published))
        if entry.author:
            _add(_add(element, "author"), "name", entry.author)
        for term, label in entry.categories:
            _add(element, "category", term=term, label=label)
        if entry.content:
            _add(element, "content", str(entry.content), type="html")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def atom_response(feed: Feed):
    """The feed, with a Last-Modified and an ETag: a reader that already has it gets a 304."""
    response = current_app.response_class(atom_document(feed), content_type=CONTENT_TYPE)
    response.last_modified = feed.updated
    response.add_etag()
    return response.make_conditional(request)
