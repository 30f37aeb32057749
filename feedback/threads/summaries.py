"""The weekly summary's content: where things stand, for producers and for requesters.

The mail worker lives in the notifications layer, below this one, and must not import threads; so this module
registers `weekly_summaries` with it (`feedback.notifications.mails.register_summary_source`) when the
application factory calls `register()`.
The worker asks for a batch of people at a time and lays out what it gets; the queries here are grouped over
the batch (one per list, lists cut per organisation or per author with a window function), never one per
person or per organisation.

- A producer (a member of an organisation) gets, for each of its organisations: the threads opened in the last
  seven days, the overdue ones, those due within seven days, and those waiting for their author (precisions
  asked). Members may see their organisation's restricted threads, so nothing is hidden from them here.
- A requester (an author) gets where each of their open threads stands: status, service, deadline.
An organisation with none of these, or a person without open threads, adds nothing: with nothing at all to
say, no mail goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from feedback.accounts.models import Membership, Organisation
from feedback.extensions import db
from feedback.i18n import french_date
from feedback.notifications.mails import SummaryGroup, SummaryItem, SummarySection, register_summary_source
from feedback.threads.models import Thread, ThreadKind, ThreadStatus
from feedback.threads.recipients import thread_path

# At most this many threads are listed per list of an organisation or of a person; the count says the rest.
LISTED = 15
WEEK = timedelta(days=7)


def _quoted(title: str) -> str:
    return f"« {' '.join(title.split())} »"


class Capped(NamedTuple):
    """The first threads of a list, and how many there are in all."""

    total: int
    rows: list


def _capped(condition, order_by, owner) -> dict[int, Capped]:
    """The threads meeting `condition`, per `owner` (a column: the organisation or the author): the first
    `LISTED` in `order_by` order, and how many there are in all."""
    rank = sa.func.row_number().over(partition_by=owner, order_by=[*order_by, Thread.id]).label("rank")
    total = sa.func.count().over(partition_by=owner).label("total")
    ranked = (
        sa.select(
            owner.label("owner"),
            Thread.id,
            Thread.kind,
            Thread.title,
            Thread.status,
            Thread.due_at,
            Thread.created_at,
            Thread.organisation_id,
            rank,
            total,
        )
        .where(condition)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ranked).where(ranked.c.rank <= LISTED).order_by(ranked.c.owner, ranked.c.rank)
    ).all()
    found: dict[int, Capped] = {}
    for row in rows:
        found.setdefault(row.owner, Capped(row.total, [])).rows.append(row)
    return found


def _item(row, detail: str) -> SummaryItem:
    return SummaryItem(
        text=f"{ThreadKind(row.kind).label} : {_quoted(row.title)}", link=thread_path(row.id), detail=detail
    )


def _organisation_lists(organisation_ids: list[int], now: datetime) -> dict[int, list[SummaryGroup]]:
    """The four lists of each organisation, as groups (empty lists left out)."""
    owner = Thread.organisation_id
    mine = owner.in_(organisation_ids)
    is_open = Thread.is_open.is_(True)
    lists = [
        (
            "Nouveaux fils des sept derniers jours",
            _capped(sa.and_(mine, Thread.created_at >= now - WEEK), [Thread.created_at.desc()], owner),
            lambda row: f"ouvert le {french_date(row.created_at)}, {ThreadStatus(row.status).label.lower()}",
        ),
        (
            "En retard",
            _capped(sa.and_(mine, is_open, Thread.due_at < now), [Thread.due_at], owner),
            lambda row: f"réponse attendue depuis le {french_date(row.due_at)}",
        ),
        (
            "Échéance dans les sept jours",
            _capped(sa.and_(mine, is_open, Thread.due_at >= now, Thread.due_at < now + WEEK), [Thread.due_at], owner),
            lambda row: f"réponse attendue le {french_date(row.due_at)}",
        ),
        (
            "En attente de précisions de leur auteur",
            _capped(sa.and_(mine, Thread.status == ThreadStatus.NEEDS_INFO.value), [Thread.created_at], owner),
            lambda row: f"ouvert le {french_date(row.created_at)}",
        ),
    ]
    groups: dict[int, list[SummaryGroup]] = {}
    for heading, found, detail in lists:
        for organisation_id, capped in found.items():
            items = [_item(row, detail(row)) for row in capped.rows]
            groups.setdefault(organisation_id, []).append(
                SummaryGroup(heading=heading, items=items, total=capped.total)
            )
    return groups


def _standing(row, organisation_names: dict[int, str], now: datetime) -> str:
    status = ThreadStatus(row.status)
    parts = [status.label]
    if status == ThreadStatus.NEEDS_INFO:
        parts[0] += " : le service attend votre réponse"
    parts.append(organisation_names.get(row.organisation_id, "en attente d'orientation vers un service"))
    if row.due_at is not None:
        verb = "réponse attendue depuis le" if row.due_at < now else "réponse attendue le"
        parts.append(f"{verb} {french_date(row.due_at)}")
    return " · ".join(parts)


def weekly_summaries(user_ids: Sequence[int], now: datetime) -> dict[int, list[SummarySection]]:
    """The summary's sections of each of these people (people with nothing to be told are left out)."""
    ids = list(user_ids)
    if not ids:
        return {}
    memberships = db.session.execute(
        sa.select(Membership.user_id, Organisation.id, Organisation.name)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id.in_(ids))
        .order_by(Membership.user_id, Organisation.name)
    ).all()
    organisation_names = {organisation_id: name for _, organisation_id, name in memberships}
    by_organisation = _organisation_lists(sorted(organisation_names), now) if organisation_names else {}

    authored = _capped(
        sa.and_(Thread.author_id.in_(ids), Thread.is_open.is_(True)), [Thread.last_activity_at.desc()], Thread.author_id
    )
    missing = {row.organisation_id for capped in authored.values() for row in capped.rows} - set(organisation_names)
    missing.discard(None)
    if missing:
        organisation_names.update(
            db.session.execute(sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(missing))).all()
        )

    sections: dict[int, list[SummarySection]] = {}
    for user_id, organisation_id, name in memberships:
        groups = by_organisation.get(organisation_id)
        if groups:
            sections.setdefault(user_id, []).append(SummarySection(heading=name, groups=groups))
    for user_id, capped in authored.items():
        items = [_item(row, _standing(row, organisation_names, now)) for row in capped.rows]
        group = SummaryGroup(heading="Où en sont vos fils ouverts", items=items, total=capped.total)
        sections.setdefault(user_id, []).append(SummarySection(heading="Vos demandes et signalements", groups=[group]))
    return sections


def register() -> None:
    """Called by the application factory: the mail worker composes the weekly summary with this module."""
    register_summary_source(weekly_summaries)
