"""How often each person wants mail, topic by topic.

A topic is a notification kind, or `summary` (the weekly summary of where things stand). A person without a
`NotificationPreference` row for a topic gets its default: at once for every kind, weekly for the summary,
and the rule of new threads below. `resolve_frequency` is the one place that rule is written; the page, the
mail worker and the unsubscribe links all go through it.

New threads (`thread_created`): the coordinators of the organisation a thread is addressed to are always told
in the application, so their default is a mail at once; its plain members are told only when they asked (a row
for `thread_created` other than `never`), so theirs is `never`. The curators are told of the threads waiting to
be routed: their default is at once as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from feedback.accounts.models import Membership, MembershipRole, User
from feedback.extensions import db
from feedback.notifications.models import Frequency, NotificationKind, NotificationPreference

SUMMARY = "summary"
ALL_TOPICS = "all"

# Every topic, in the order of the preferences page, with the label it shows.
TOPICS: dict[str, str] = {
    NotificationKind.THREAD_CREATED.value: "Nouveaux fils adressés à vos organisations",
    NotificationKind.FOLLOWED_THREAD.value: "Nouveaux fils sur les jeux de données et les producteurs que vous suivez",
    NotificationKind.MESSAGE.value: "Réponses sur les fils que vous suivez",
    NotificationKind.STATUS_CHANGED.value: "Changements de statut",
    NotificationKind.INTERNAL_NOTE.value: "Notes internes des services",
    NotificationKind.ASSIGNED.value: "Fils qui vous sont assignés",
    NotificationKind.TRANSFERRED.value: "Transferts vers un autre service",
    NotificationKind.ROUTED.value: "Fils orientés vers un service",
    NotificationKind.DEADLINE_EXTENDED.value: "Prolongations du délai de réponse",
    NotificationKind.DEADLINE_REMINDER.value: "Rappels d'échéance",
    NotificationKind.ESCALATION.value: "Relances des fils en retard ou sans réponse",
    NotificationKind.REPORT_PUBLISHED.value: "Rapports de capitalisation publiés",
    NotificationKind.MODERATION.value: "Suites données à vos signalements",
    NotificationKind.JOIN_REQUEST.value: "Demandes pour rejoindre vos services, et suites données aux vôtres",
    SUMMARY: "Point hebdomadaire sur vos fils et ceux de vos organisations",
}
assert set(TOPICS) == {kind.value for kind in NotificationKind} | {SUMMARY}, "every kind is a topic"

HINTS: dict[str, str] = {
    NotificationKind.THREAD_CREATED.value: (
        "Nouveaux fils adressés à vos organisations : les coordinateurs en sont toujours avertis dans "
        "l'application ; les autres membres seulement s'ils choisissent ici d'en être avertis."
    ),
    NotificationKind.INTERNAL_NOTE.value: "Pour les membres des services et les administrateurs des données.",
    SUMMARY: (
        "Chaque lundi matin : les nouveaux fils de la semaine, les retards, les échéances proches et les fils "
        "en attente d'une réponse de leur auteur ; où en sont vos propres demandes."
    ),
}

_EVERY_FREQUENCY = (Frequency.IMMEDIATE, Frequency.DAILY, Frequency.WEEKLY, Frequency.NEVER)


def allowed_frequencies(topic: str) -> tuple[Frequency, ...]:
    """The weekly summary is weekly or nothing; every other topic may be at once, daily, weekly or never."""
    if topic == SUMMARY:
        return (Frequency.WEEKLY, Frequency.NEVER)
    return _EVERY_FREQUENCY


def default_frequency(topic: str, *, coordinator: bool, curator: bool) -> Frequency:
    """The frequency of a topic for someone who chose nothing (see the module's docstring)."""
    if topic == SUMMARY:
        return Frequency.WEEKLY
    if topic == NotificationKind.THREAD_CREATED:
        return Frequency.IMMEDIATE if coordinator or curator else Frequency.NEVER
    return Frequency.IMMEDIATE


def resolve_frequency(topic: str, chosen: str | None, *, coordinator: bool, curator: bool) -> Frequency:
    """What someone gets for `topic`: their choice (`chosen`, their row's frequency) or else the default."""
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}")
    if chosen is not None:
        frequency = Frequency(chosen)
        if frequency in allowed_frequencies(topic):
            return frequency
    return default_frequency(topic, coordinator=coordinator, curator=curator)


def _coordinators(user_ids: Iterable[int]) -> set[int]:
    ids = list(user_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Membership.user_id)
            .where(Membership.user_id.in_(ids), Membership.role == MembershipRole.COORDINATOR.value)
            .distinct()
        )
    )


def _rows(user_ids: Iterable[int]) -> dict[tuple[int, str], str]:
    ids = list(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(NotificationPreference.user_id, NotificationPreference.topic, NotificationPreference.frequency).where(
            NotificationPreference.user_id.in_(ids)
        )
    )
    return {(user_id, topic): frequency for user_id, topic, frequency in rows}


def frequencies(user: User) -> dict[str, Frequency]:
    """Every topic's frequency for `user`, in the order of `TOPICS` (two queries)."""
    table = FrequencyTable.load([user])
    return {topic: table.of(user.id, topic) for topic in TOPICS}


def frequency(user: User, topic: str) -> Frequency:
    """The frequency of one topic for `user`."""
    return FrequencyTable.load([user]).of(user.id, topic)


@dataclass
class FrequencyTable:
    """The frequencies of many people at once, read in two queries: what the mail worker uses."""

    chosen: Mapping[tuple[int, str], str]
    coordinators: set[int]
    curators: set[int]

    @classmethod
    def load(cls, users: Iterable[User]) -> FrequencyTable:
        users = list(users)
        ids = [user.id for user in users]
        return cls(
            chosen=_rows(ids),
            coordinators=_coordinators(ids),
            curators={user.id for user in users if user.is_curator},
        )

    def of(self, user_id: int, topic: str) -> Frequency:
        return resolve_frequency(
            topic,
            self.chosen.get((user_id, topic)),
            coordinator=user_id in self.coordinators,
            curator=user_id in self.curators,
        )


def set_frequency(user: User, topic: str, frequency: Frequency | str) -> None:
    """Record `user`'s choice for `topic` (a row, even when it equals the default: for new threads the row is
    what says a member chose to be told)."""
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}")
    frequency = Frequency(frequency)
    if frequency not in allowed_frequencies(topic):
        raise ValueError(f"{frequency.value!r} is not a frequency of {topic!r}")
    row = db.session.get(NotificationPreference, (user.id, topic))
    if row is None:
        db.session.add(NotificationPreference(user_id=user.id, topic=topic, frequency=frequency.value))
    else:
        row.frequency = frequency.value
    db.session.flush()


def set_frequencies(user: User, choices: Mapping[str, Frequency | str]) -> int:
    """Record the choices of the preferences page; only those that change what `user` gets are written (so
    that an untouched topic keeps following its default). Returns how many changed."""
    current = frequencies(user)
    changed = 0
    for topic, chosen in choices.items():
        if Frequency(chosen) != current.get(topic):
            set_frequency(user, topic, chosen)
            changed += 1
    return changed


def stop_mail(user: User, topic: str) -> None:
    """No more mail of `topic` for `user`, or of any topic (`ALL_TOPICS`): what an unsubscribe link does."""
    for each in TOPICS if topic == ALL_TOPICS else [topic]:
        set_frequency(user, each, Frequency.NEVER)
