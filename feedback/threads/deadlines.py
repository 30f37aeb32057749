"""Answering deadlines.

Code de l'environnement, art. R124-1: a public authority answers a request for environmental information
within one month of receipt; it may extend this to two months when the volume or the complexity of the
request justify it, telling the requester why within the first month. Other threads get a service
target in working days (`feedback.clock`: weekends and French public holidays do not count), set by
`FEEDBACK_SERVICE_TARGET_WORKING_DAYS`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from feedback.clock import add_working_days

LEGAL_DELAY = relativedelta(months=1)
EXTENDED_LEGAL_DELAY = relativedelta(months=2)
DUE_SOON = timedelta(days=7)


def legal_due_at(received_at: datetime, *, extended: bool = False) -> datetime:
    """One month after receipt, two once extended (calendar months, R124-1)."""
    return received_at + (EXTENDED_LEGAL_DELAY if extended else LEGAL_DELAY)


def service_due_at(received_at: datetime, working_days: int) -> datetime:
    return add_working_days(received_at, working_days)
