"""Every domain's models, imported together: what migrations and schema checks compare against."""

from feedback.accounts.models import Membership, Organisation, User
from feedback.auth.models import JoinRequest, ProConnectIdentity
from feedback.capitalisation.models import Recommendation, Report
from feedback.catalogue.models import DATASET_SEARCH, Dataset, Territory, Theme
from feedback.extensions import db
from feedback.mail.models import InboundMail, OutgoingMail
from feedback.moderation.models import ModerationReport
from feedback.notifications.models import Notification, NotificationPreference
from feedback.threads.models import (
    THREAD_SEARCH,
    Attachment,
    DeadlineAlert,
    Follow,
    Message,
    Subscription,
    Thread,
    ThreadEvent,
    Vote,
)

# Database objects that the models do not describe but the migrations create (full-text indexes).
SEARCH_INDEXES = [DATASET_SEARCH, THREAD_SEARCH]


def is_managed_outside_models(name: str | None) -> bool:
    return name is not None and any(index.owns(name) for index in SEARCH_INDEXES)


__all__ = [
    "Attachment",
    "Dataset",
    "DeadlineAlert",
    "Follow",
    "InboundMail",
    "JoinRequest",
    "Membership",
    "Message",
    "ModerationReport",
    "Notification",
    "NotificationPreference",
    "Organisation",
    "OutgoingMail",
    "ProConnectIdentity",
    "Recommendation",
    "Report",
    "Subscription",
    "Territory",
    "Theme",
    "Thread",
    "ThreadEvent",
    "User",
    "Vote",
    "db",
    "is_managed_outside_models",
]
