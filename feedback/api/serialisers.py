"""Rows of the other layers as the API's models: what a caller may read, nothing more (the rows come from the
same queries and permission checks as the HTML pages)."""

from __future__ import annotations

from flask import url_for

from feedback.accounts.models import Organisation, User
from feedback.api import schemas
from feedback.capitalisation.models import Report
from feedback.catalogue.models import Dataset
from feedback.notifications.models import Notification
from feedback.pagination import Page
from feedback.threads.models import Message, Thread, ThreadStatus

DELETED_ACCOUNT = "Compte supprimé"


def page_fields(page: Page) -> dict:
    return {
        "page": page.number,
        "page_size": page.size,
        "total": page.total,
        "total_exact": page.exact,
        "next_page": page.number + 1 if page.has_next else None,
        "previous_page": page.number - 1 if page.has_previous else None,
    }


def organisation_ref(organisation: Organisation | None) -> schemas.OrganisationRef | None:
    if organisation is None:
        return None
    return schemas.OrganisationRef(slug=organisation.slug, name=organisation.name)


def dataset_ref(dataset: Dataset | None) -> schemas.DatasetRef | None:
    if dataset is None:
        return None
    return schemas.DatasetRef(id=dataset.catalogue_id, slug=dataset.slug, title=dataset.title)


def person_ref(user: User | None) -> schemas.PersonRef:
    if user is None or user.deleted_at is not None:
        return schemas.PersonRef(name=DELETED_ACCOUNT)
    return schemas.PersonRef(name=user.name)


def _thread_fields(thread: Thread) -> dict:
    return dict(
        id=thread.id,
        kind=thread.kind,
        title=thread.title,
        status=thread.status,
        is_open=thread.is_open,
        restricted=thread.is_restricted,
        dataset=dataset_ref(thread.dataset),
        organisation=organisation_ref(thread.organisation),
        territory=thread.territory_code,
        use_case=thread.use_case,
        quality_category=thread.quality_category,
        created_at=thread.created_at,
        last_activity_at=thread.last_activity_at,
        due_at=thread.due_at,
        closed_at=thread.closed_at,
        votes_count=thread.votes_count,
        messages_count=thread.public_messages_count,
        followers_count=thread.followers_count,
        url=url_for("threads.thread", thread_id=thread.id, _external=True),
    )


def thread_summary(thread: Thread) -> schemas.ThreadSummary:
    return schemas.ThreadSummary(**_thread_fields(thread))


def thread_page(page: Page[Thread]) -> schemas.ThreadPage:
    return schemas.ThreadPage(data=[thread_summary(thread) for thread in page.items], **page_fields(page))


def message_out(message: Message) -> schemas.MessageOut:
    return schemas.MessageOut(
        id=message.id,
        author=person_ref(message.author),
        as_organisation=organisation_ref(message.as_organisation),
        purpose=message.purpose,
        internal=message.internal,
        created_at=message.created_at,
        edited_at=message.edited_at,
        body=message.body,
        body_html=message.body_html,
        attachments=[
            schemas.AttachmentOut(
                name=attachment.name,
                content_type=attachment.content_type,
                size=attachment.size,
                url=url_for("api.attachment", thread_id=message.thread_id, attachment_id=attachment.id, _external=True),
            )
            for attachment in message.attachments
        ],
    )


def thread_out(thread: Thread, messages: list[Message], actions: list[str]) -> schemas.ThreadOut:
    return schemas.ThreadOut(
        **_thread_fields(thread),
        version=thread.version,
        deadline_extended=thread.deadline_extended,
        decline_reason=thread.decline_reason,
        duplicate_of=thread.duplicate_of_id,
        resolution_dataset=dataset_ref(thread.resolution_dataset),
        actions=actions,
        messages=[message_out(message) for message in messages],
    )


def status_counts(counts: dict[str, int]) -> schemas.StatusCounts:
    return schemas.StatusCounts(
        total=sum(counts.values()),
        open=sum(number for status, number in counts.items() if ThreadStatus(status).is_open),
        by_status=counts,
    )


def dataset_out(dataset: Dataset, counts: dict[str, int]) -> schemas.DatasetOut:
    return schemas.DatasetOut(
        id=dataset.catalogue_id,
        slug=dataset.slug,
        title=dataset.title,
        organisation=organisation_ref(dataset.organisation),
        landing_url=dataset.landing_url,
        geoide_record_id=dataset.geoide_record_id,
        licence=dataset.licence,
        frequency=dataset.frequency,
        archived=dataset.archived,
        url=url_for("catalogue.dataset", identifier=dataset.catalogue_id, _external=True),
        threads=status_counts(counts),
    )


def organisation_out(organisation: Organisation, counts: dict[str, int]) -> schemas.OrganisationOut:
    return schemas.OrganisationOut(
        slug=organisation.slug,
        name=organisation.name,
        kind=organisation.kind,
        is_producer=organisation.is_producer,
        territory=organisation.territory_code,
        datagouv_id=organisation.datagouv_id,
        website=organisation.website,
        url=url_for("catalogue.organisation", slug=organisation.slug, _external=True),
        threads=status_counts(counts),
    )


def report_summary_fields(report: Report) -> dict:
    return dict(
        slug=report.slug,
        title=report.title,
        summary=report.summary or "",
        producer=organisation_ref(report.producer),
        published_at=report.published_at,
        url=url_for("reports.report", slug=report.slug, _external=True),
    )


def report_page(page: Page[Report]) -> schemas.ReportPage:
    return schemas.ReportPage(
        data=[schemas.ReportSummary(**report_summary_fields(report)) for report in page.items], **page_fields(page)
    )


def report_out(report: Report, figures: dict) -> schemas.ReportOut:
    return schemas.ReportOut(**report_summary_fields(report), summary_html=report.summary_html or "", figures=figures)


def notification_page(page: Page[Notification]) -> schemas.NotificationPage:
    return schemas.NotificationPage(
        data=[
            schemas.NotificationOut(
                id=notification.id,
                kind=notification.kind,
                text=notification.text,
                link=notification.link,
                created_at=notification.created_at,
                read_at=notification.read_at,
            )
            for notification in page.items
        ],
        **page_fields(page),
    )
