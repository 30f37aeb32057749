"""What a catalogue page shows of a dataset (the embed and the badge): its open threads by kind, the latest of them,
and its answer record — public threads only (`opendata.public`), answered as `threads.answers` defines it."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from feedback.capitalisation.indicators import median
from feedback.catalogue.models import Dataset
from feedback.extensions import db
from feedback.opendata.public import public_threads
from feedback.threads import answers
from feedback.threads.models import OPEN_STATUSES, Thread, ThreadKind

LATEST_OPEN = 5


@dataclass(frozen=True)
class AnswerRecord:
    """The threads a service received on the dataset, how many it answered (a response, or its closing the
    thread), and the median delay of its first responses in working days."""

    received: int
    answered: int
    median_working_days: float | None

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.received if self.received else None


@dataclass
class DatasetRecord:
    dataset: Dataset
    open_by_kind: list[tuple[ThreadKind, int]] = field(default_factory=list)  # kinds with open threads, in order
    latest_open: list[Thread] = field(default_factory=list)
    answers: AnswerRecord = AnswerRecord(0, 0, None)

    @property
    def open_count(self) -> int:
        return sum(count for _, count in self.open_by_kind)


def _on_dataset(dataset_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(Thread.dataset_id == dataset_id, public_threads())


def _open() -> sa.ColumnElement[bool]:
    """Open, said with the statuses (`is_open` follows them): read from the dataset's index (`ix_thread_dataset_status`:
    dataset, status, visibility) rather than joined to the index of every open thread."""
    return Thread.status.in_(sorted(status.value for status in OPEN_STATUSES))


def open_threads_count(dataset_id: int) -> int:
    """The dataset's open public threads: what its badge says."""
    statement = sa.select(sa.func.count()).select_from(Thread).where(_on_dataset(dataset_id), _open())
    return db.session.scalar(statement) or 0


def answer_record(dataset_id: int) -> AnswerRecord:
    """Two queries: the counts, then the delays of the answered threads (a dataset has few)."""
    counts = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(Thread.answered_at)).where(
            _on_dataset(dataset_id), Thread.organisation_id.is_not(None)
        )
    ).one()
    delays = db.session.scalars(
        sa.select(Thread.response_working_days).where(
            _on_dataset(dataset_id),
            Thread.organisation_id.is_not(None),
            answers.answered_condition(),
            Thread.response_working_days.is_not(None),
        )
    ).all()
    return AnswerRecord(int(counts[0]), int(counts[1]), median([float(days) for days in delays if days is not None]))


def dataset_record(dataset: Dataset) -> DatasetRecord:
    """Everything the embed shows: four queries whatever the number of threads."""
    by_kind = dict(
        db.session.execute(
            sa.select(Thread.kind, sa.func.count()).where(_on_dataset(dataset.id), _open()).group_by(Thread.kind)
        ).all()
    )
    latest = db.session.scalars(
        sa.select(Thread)
        .where(_on_dataset(dataset.id), _open())
        .order_by(Thread.last_activity_at.desc(), Thread.id.desc())
        .limit(LATEST_OPEN)
    ).all()
    return DatasetRecord(
        dataset=dataset,
        open_by_kind=[(kind, by_kind[kind.value]) for kind in ThreadKind if by_kind.get(kind.value)],
        latest_open=list(latest),
        answers=answer_record(dataset.id),
    )
