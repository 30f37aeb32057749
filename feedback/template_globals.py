"""The helpers that templates call across layers, registered in one place.

Most of what a template shows comes from its view. A few parts of a page belong to another domain: the
header's bell (notifications) on every page, a dataset's or a producer's threads and its "Suivre" button
(threads) on the catalogue's pages, the latest reports about one's services (capitalisation) in the inbox, the
feed of a /threads filter. Their functions live with their domain; this module puts them in every template's
context. Like the application factory that calls it, it sits above every layer; nothing else registers
app-wide template helpers (each domain's own filters and labels are passed by its views).

| name | from | used by |
|---|---|---|
| `unread_notifications()` | notifications | the header's bell (base.html) |
| `can_thread(user, action, thread)`, `can_edit_message` | threads.workflow | thread pages, thread lists |
| `status_labels`, `kind_labels`, `decline_labels`, `category_label` | threads | thread pages, lists, dashboards |
| `thread_panel(dataset=…)` / `(organisation=…)` | threads.views | dataset and organisation pages |
| `follows(dataset=…)` / `(organisation=…)` | threads.services | the "Suivre" buttons of catalogue pages |
| `threads_feed_url(args)` | threads.feeds | the /threads page's feed link |
| `reports_for_me()` | capitalisation | the inbox |
| `now` | clock | deadlines shown as "en retard" |
"""

from __future__ import annotations

from functools import cache

from flask import Flask
from flask_login import current_user

from feedback.capitalisation.report_views import reports_for_me
from feedback.catalogue.resolver import suggestion_label
from feedback.database import utcnow
from feedback.notifications.services import unread_count
from feedback.threads import services as thread_services
from feedback.threads.feeds import threads_feed_url
from feedback.threads.models import DeclineReason, ThreadKind, ThreadStatus
from feedback.threads.taxonomy import category_label
from feedback.threads.views import thread_panel
from feedback.threads.workflow import can, can_edit_message


def _per_request() -> dict:
    return {
        "now": utcnow(),
        # Called by the header's bell, once per page: a fragment that shows no bell runs no query.
        "unread_notifications": cache(lambda: unread_count(current_user)),
    }


def register(app: Flask) -> None:
    app.context_processor(_per_request)
    app.jinja_env.globals.update(
        can_thread=can,
        can_edit_message=can_edit_message,
        category_label=category_label,
        status_labels={s.value: s.label for s in ThreadStatus},
        kind_labels={k.value: k.label for k in ThreadKind},
        decline_labels={r.value: r.label for r in DeclineReason},
        thread_panel=thread_panel,
        follows=lambda **target: thread_services.follows(current_user, **target),
        threads_feed_url=threads_feed_url,
        reports_for_me=reports_for_me,
        suggestion_label=suggestion_label,
    )
