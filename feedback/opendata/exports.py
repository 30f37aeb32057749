"""The open data of the platform: its public threads and their public messages as CSV files, `;`-separated and
UTF-8 like data.gouv.fr's own exports, written row by row from a server-side cursor so that memory stays flat
whatever the number of rows (`stream`).

Public only (`opendata.public`): no restricted thread, no internal note, nothing hidden or held by the moderation.
People's names are left out (the organisation a message speaks for is given); the columns are listed in the
README ("Données ouvertes").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from feedback.accounts.models import Organisation
from feedback.capitalisation.exports import FORMULA_STARTS
from feedback.catalogue.models import Dataset
from feedback.extensions import db
from feedback.opendata.public import public_messages_of_public_threads, public_threads
from feedback.threads.models import Message, Thread

BATCH = 1000  # rows read from the cursor, and written, at a time
SEPARATOR = ";"


@dataclass(frozen=True)
class Column:
    name: str
    description: str  # what the README says of it


THREAD_COLUMNS = (
    Column("id", "numéro du fil sur la plateforme"),
    Column("url", "adresse de la page du fil"),
    Column("type", "data_request, quality_issue, missing_data ou question"),
    Column("titre", "titre du fil"),
    Column("statut", "new, acknowledged, needs_info, in_progress, resolved, declined, duplicate ou withdrawn"),
    Column("ouvert", "true tant que le fil est ouvert"),
    Column("jeu_de_donnees_id", "identifiant data.gouv.fr du jeu de données concerné (vide pour une donnée manquante)"),
    Column("jeu_de_donnees_titre", "titre du jeu de données"),
    Column("service", "service producteur destinataire"),
    Column("service_id", "identifiant data.gouv.fr du service (s'il en a un)"),
    Column("territoire", "code du territoire (FR, R84, D45, C45234)"),
    Column("cas_usage", "cas d'usage déclaré (pcaet, scot, plu…)"),
    Column("categorie_qualite", "catégorie d'un signalement qualité"),
    Column("motif_refus", "motif d'un refus"),
    Column("cree_le", "date de création (ISO 8601, UTC)"),
    Column("recu_le", "date de réception par le service qui en a la charge"),
    Column("echeance", "date limite de réponse"),
    Column("echeance_prolongee", "true si le délai a été prolongé (art. R124-1 du code de l'environnement)"),
    Column("premiere_reponse_le", "date de la première réponse du service"),
    Column("repondu_le", "date à laquelle le fil a été répondu (réponse ou clôture par le service)"),
    Column("delai_reponse_jours_ouvres", "jours ouvrés de la réception à la première réponse"),
    Column("clos_le", "date de clôture"),
    Column("votes", "nombre de « moi aussi »"),
    Column("importe_de_data_gouv_fr", "identifiant de la discussion data.gouv.fr d'origine"),
)

MESSAGE_COLUMNS = (
    Column("id", "numéro du message"),
    Column("fil_id", "numéro du fil (colonne id de fils.csv)"),
    Column("publie_le", "date de publication (ISO 8601, UTC)"),
    Column("modifie_le", "date de la dernière modification"),
    Column("nature", "reply, answer, details_request, transfer_note ou extension_motive"),
    Column("au_nom_de", "service au nom duquel le message est écrit (vide pour un usager)"),
    Column("au_nom_de_id", "identifiant data.gouv.fr de ce service"),
    Column("texte", "texte du message (Markdown)"),
)


def _value(value) -> str:
    """A cell: ISO 8601 dates, true/false, and text that a spreadsheet would read as a formula (`=`, `+`, `-`,
    `@`…) preceded by `'`, as in the platform's other CSV files (`capitalisation.exports.spreadsheet_safe`).
    Tested by exact type, the commonest first: it runs for every cell of every row."""
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is datetime:
        return value.isoformat()
    return str(value)


def csv_lines(header: Sequence[Column], rows: Iterable[Sequence]) -> Iterator[bytes]:
    """The CSV file, header first, in chunks of `BATCH` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=SEPARATOR, lineterminator="\r\n")
    writer.writerow([column.name for column in header])
    pending = 0
    for row in rows:
        writer.writerow([_value(value) for value in row])
        pending += 1
        if pending == BATCH:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def _streamed(statement) -> Iterator[sa.Row]:
    """The rows of `statement` from a server-side cursor, `BATCH` at a time (PostgreSQL; SQLite reads as it goes)."""
    result = db.session.execute(statement.execution_options(stream_results=True, yield_per=BATCH))
    try:
        yield from result
    finally:
        result.close()


def thread_rows(thread_url: Callable[[int], str]) -> Iterator[tuple]:
    statement = (
        sa.select(
            Thread.id, Thread.kind, Thread.title, Thread.status, Thread.is_open, Dataset.catalogue_id, Dataset.title,
            Organisation.name, Organisation.datagouv_id, Thread.territory_code, Thread.use_case,
            Thread.quality_category, Thread.decline_reason, Thread.created_at, Thread.received_at, Thread.due_at,
            Thread.deadline_extended, Thread.first_response_at, Thread.answered_at, Thread.response_working_days,
            Thread.closed_at, Thread.votes_count, Thread.udata_id,
        )
        .outerjoin(Dataset, Dataset.id == Thread.dataset_id)
        .outerjoin(Organisation, Organisation.id == Thread.organisation_id)
        .where(public_threads())
        .order_by(Thread.id)
    )  # fmt: skip
    for row in _streamed(statement):
        thread_id, *rest = row
        yield (thread_id, thread_url(thread_id), *rest)


def message_rows() -> Iterator[tuple]:
    speaking_for = aliased(Organisation)
    statement = (
        sa.select(
            Message.id, Message.thread_id, Message.created_at, Message.edited_at, Message.purpose,
            speaking_for.name, speaking_for.datagouv_id, Message.body,
        )
        .join(Thread, Thread.id == Message.thread_id)
        .outerjoin(speaking_for, speaking_for.id == Message.as_organisation_id)
        .where(public_messages_of_public_threads())
        .order_by(Message.id)
    )  # fmt: skip
    yield from _streamed(statement)


def threads_csv(thread_url: Callable[[int], str]) -> Iterator[bytes]:
    return csv_lines(THREAD_COLUMNS, thread_rows(thread_url))


def messages_csv() -> Iterator[bytes]:
    return csv_lines(MESSAGE_COLUMNS, message_rows())
