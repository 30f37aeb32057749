"""Reports: drafting, editing the recommendations, publishing, restitution to one producer.

A draft's figures are computed live from its scope; publishing freezes them into `snapshot` together with the
recommendations as the curators left them, and from then on the report never changes: every operation here
refuses a published report (`ReportLocked`). Restricted threads are never in a snapshot nor in the evidence of a
recommendation, whatever the draft showed. Operations flush; the request commits once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa

from feedback.accounts.models import Membership, MembershipRole, Organisation, User
from feedback.accounts.services import slugify
from feedback.capitalisation import indicators
from feedback.capitalisation.models import Priority, Recommendation, Report, ReportStatus
from feedback.capitalisation.scope import Scope
from feedback.database import utcnow
from feedback.extensions import db
from feedback.notifications.models import NotificationKind
from feedback.notifications.services import notify
from feedback.pagination import Page, paginate
from feedback.threads.models import Thread
from feedback.threads.workflow import visible_threads

SLUG_LENGTH = 100

# What a restitution report sets side by side: the producer's figure and the median of every producer's.
RESTITUTION_INDICATORS = {
    "received": "Fils reçus",
    "answered_share": "Part des fils avec réponse",
    "median_working_days": "Délai médian de première réponse (jours ouvrés)",
    "p90_working_days": "9e décile du délai de première réponse (jours ouvrés)",
    "resolved": "Fils résolus",
    "declined": "Fils refusés",
    "data_requests": "Demandes de données",
    "overdue_share": "Part des demandes de données en retard (R124-1)",
    "datagouv_mean_answer_days": "Délai moyen data.gouv.fr (jours)",
}


class ReportError(Exception):
    """An operation on a report that cannot be done; the message is for the curator."""


class ReportLocked(ReportError):
    """A published report: its figures and recommendations never change."""

    def __init__(self, message: str = "Ce rapport est publié : il ne peut plus être modifié."):
        super().__init__(message)


def _require_draft(report: Report) -> None:
    if report.is_published:
        raise ReportLocked()


def report_path(report: Report) -> str:
    """The report's page, as a notification links to it (a path: services have no request)."""
    return f"/rapports/{report.slug}"


def unique_report_slug(title: str) -> str:
    slug = slugify(title, max_length=SLUG_LENGTH) or "rapport"
    taken = set(
        db.session.scalars(sa.select(Report.slug).where(sa.or_(Report.slug == slug, Report.slug.like(f"{slug}-%"))))
    )
    if slug not in taken:
        return slug
    number = 2
    while f"{slug}-{number}" in taken:
        number += 1
    return f"{slug}-{number}"


def report_scope(report: Report, *, public: bool = False) -> Scope:
    scope = Scope.from_json(report.scope)
    return replace(scope, include_restricted=False) if public else scope


# Recommendations drafted by the rules -----------------------------------------------------------------------


def rule_recommendations(report: Report, now: datetime | None = None) -> list[dict]:
    """What the rules draft for `report`, always from its public figures (a recommendation may be published).
    A restitution report keeps only those addressed to its producer."""
    scope = report_scope(report, public=True)
    drafts = indicators.build_report_data(scope, now=now)["recommendations"]
    if report.producer is not None:
        drafts = [d for d in drafts if d["audience"] == report.producer.slug]
    return drafts


def _audience_ids(slugs) -> dict[str, int]:
    slugs = {s for s in slugs if s}
    if not slugs:
        return {}
    return dict(
        db.session.execute(sa.select(Organisation.slug, Organisation.id).where(Organisation.slug.in_(slugs))).all()
    )


def _rule_key(rule: str | None, audience_id: int | None, evidence: dict) -> tuple:
    """What makes two drafts of a rule the same recommendation: the rule and its audience, and for groups of
    similar requests (several per audience) the group's first thread."""
    ids = (evidence or {}).get("thread_ids") or []
    return (rule, audience_id, min(ids) if rule == "similar_requests" and ids else None)


def _add_rule_recommendations(report: Report, drafts: list[dict], skip: set[tuple], position: int) -> None:
    audiences = _audience_ids(d["audience"] for d in drafts)
    for draft in drafts:
        audience_id = audiences.get(draft["audience"]) if draft["audience"] else None
        if _rule_key(draft["rule"], audience_id, draft["evidence"]) in skip:
            continue
        report.recommendations.append(
            Recommendation(
                position=position,
                audience_id=audience_id,
                priority=draft["priority"],
                rule=draft["rule"],
                title=draft["title"],
                text=draft["text"],
                evidence=draft["evidence"],
            )
        )
        position += 1


def _renumber(report: Report) -> None:
    for position, recommendation in enumerate(sorted(report.recommendations, key=lambda r: (r.position, r.id or 0))):
        recommendation.position = position


def create_report(
    curator: User,
    title: str,
    scope: Scope,
    *,
    producer: Organisation | None = None,
    summary: str = "",
    now: datetime | None = None,
) -> Report:
    """A draft over `scope`, with the recommendations the rules draft from its public figures."""
    title = " ".join(title.split())
    if not title:
        raise ReportError("Donnez un titre au rapport.")
    report = Report(
        slug=unique_report_slug(title),
        title=title[:200],
        summary=summary,
        scope=scope.to_json(),
        producer_id=producer.id if producer is not None else None,
        producer=producer,
        status=ReportStatus.DRAFT.value,
        created_by_id=curator.id,
    )
    db.session.add(report)
    db.session.flush()
    _add_rule_recommendations(report, rule_recommendations(report, now), set(), 0)
    db.session.flush()
    return report


def restitution_report(
    curator: User, producer: Organisation, scope: Scope, *, title: str | None = None, now: datetime | None = None
) -> Report:
    """A report for one producer: its figures next to the median of every producer of the same scope (so the
    scope names no producer), and only the recommendations addressed to it."""
    scope = replace(scope, producer_ids=())
    return create_report(
        curator, title or f"Rapport de restitution — {producer.name}", scope, producer=producer, now=now
    )


def regenerate_recommendations(report: Report, now: datetime | None = None) -> int:
    """Replace the rule recommendations that no one edited by what the rules draft now; the edited ones and
    those written by hand stay. Returns how many were drafted."""
    _require_draft(report)
    for recommendation in [r for r in report.recommendations if r.rule is not None and not r.edited]:
        report.recommendations.remove(recommendation)
    db.session.flush()
    kept = {_rule_key(r.rule, r.audience_id, r.evidence) for r in report.recommendations if r.rule is not None}
    before = len(report.recommendations)
    _renumber(report)
    _add_rule_recommendations(report, rule_recommendations(report, now), kept, len(report.recommendations))
    db.session.flush()
    return len(report.recommendations) - before


def _check_text(title: str, priority: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ReportError("Donnez un titre à la recommandation.")
    if len(title) > 200:
        raise ReportError("Le titre d'une recommandation tient en 200 caractères.")
    if priority not in {p.value for p in Priority}:
        raise ReportError("Priorité inconnue.")
    return title


def update_recommendation(
    recommendation: Recommendation, *, title: str, text: str, priority: str, audience: Organisation | None
) -> None:
    _require_draft(recommendation.report)
    recommendation.title = _check_text(title, priority)
    recommendation.text = text or ""
    recommendation.priority = priority
    recommendation.audience_id = audience.id if audience is not None else None
    recommendation.audience = audience
    recommendation.edited = True
    db.session.flush()


def add_recommendation(
    report: Report,
    *,
    title: str,
    text: str,
    priority: str = Priority.MEDIUM.value,
    audience: Organisation | None = None,
) -> Recommendation:
    """A recommendation written by a curator, last of the list; it has no rule and no evidence."""
    _require_draft(report)
    recommendation = Recommendation(
        position=max((r.position for r in report.recommendations), default=-1) + 1,
        title=_check_text(title, priority),
        text=text or "",
        priority=priority,
        audience_id=audience.id if audience is not None else None,
        audience=audience,
        rule=None,
        evidence={"figures": {}, "thread_ids": []},
    )
    report.recommendations.append(recommendation)
    db.session.flush()
    return recommendation


def remove_recommendation(recommendation: Recommendation) -> None:
    report = recommendation.report
    _require_draft(report)
    report.recommendations.remove(recommendation)
    db.session.flush()
    _renumber(report)
    db.session.flush()


def move_recommendation(recommendation: Recommendation, direction: str) -> bool:
    """Swap with the neighbour above ("up") or below ("down"); False at either end."""
    if direction not in ("up", "down"):
        raise ReportError("Sens inconnu.")
    report = recommendation.report
    _require_draft(report)
    _renumber(report)
    ordered = sorted(report.recommendations, key=lambda r: r.position)
    index = ordered.index(recommendation)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return False
    ordered[index].position, ordered[other].position = ordered[other].position, ordered[index].position
    db.session.flush()
    return True


# The report's data ------------------------------------------------------------------------------------------


def _public_thread_ids(ids) -> set[int]:
    ids = sorted(set(ids))
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(Thread.id).where(Thread.id.in_(ids), visible_threads(None))))


def recommendation_data(recommendations: list[Recommendation], *, public: bool) -> list[dict]:
    """The recommendations as the report's JSON carries them; `public`: evidence without any restricted
    thread."""
    allowed = (
        _public_thread_ids(i for r in recommendations for i in (r.evidence or {}).get("thread_ids", []))
        if public
        else None
    )
    result = []
    for r in sorted(recommendations, key=lambda r: r.position):
        evidence = r.evidence or {}
        ids = list(evidence.get("thread_ids", []))
        if allowed is not None:
            ids = [i for i in ids if i in allowed]
        result.append(
            {
                "rule": r.rule,
                "audience": r.audience.slug if r.audience is not None else None,
                "audience_name": r.audience.name if r.audience is not None else None,
                "priority": r.priority,
                "title": r.title,
                "text": r.text,
                "text_html": r.text_html,
                "edited": r.edited,
                "evidence": {"figures": evidence.get("figures", {}), "thread_ids": ids},
            }
        )
    return result


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    found = indicators.median(values)
    return round(found, 4) if found is not None else None


def restitution_figures(producer: Organisation, own: dict | None, scope: Scope, now: datetime) -> dict:
    """`own` (the producer's entry of the indicators) next to the median of each indicator over every producer
    that received threads in `scope`; an indicator without value (no answer…) is left out of its median."""
    national = indicators.producers(replace(scope, producer_ids=()), now)
    rows = []
    for key, label in RESTITUTION_INDICATORS.items():
        values = [p[key] for p in national if p[key] is not None]
        rows.append(
            {
                "key": key,
                "label": label,
                "producer": own[key] if own else None,
                "national_median": _median(values),
                "producers_counted": len(values),
            }
        )
    return {"producer": {"slug": producer.slug, "name": producer.name}, "producers": len(national), "indicators": rows}


def report_data(report: Report, *, public: bool = False, now: datetime | None = None) -> dict:
    """The report as its JSON export: the report's own fields, the figures of its scope (live), its
    recommendations as they stand, and for a restitution the comparison with the other producers.
    `public`: restricted threads left out whatever the scope says (what publishing freezes)."""
    now = now or utcnow()
    scope = report_scope(report, public=public)
    producer = report.producer
    figures_scope = replace(scope, producer_ids=(producer.id,)) if producer is not None else scope
    figures = indicators.build_report_data(figures_scope, now=now)
    data = {
        "report": {
            "slug": report.slug,
            "title": report.title,
            "summary": report.summary,
            "summary_html": report.summary_html,
            "status": ReportStatus.PUBLISHED.value if public else report.status,
            "published_at": None,
            "producer": {"slug": producer.slug, "name": producer.name} if producer is not None else None,
        },
        **figures,
    }
    data["recommendations"] = recommendation_data(report.recommendations, public=public)
    if producer is not None:
        own = next((p for p in figures["producers"] if p["slug"] == producer.slug), None)
        data["restitution"] = restitution_figures(producer, own, scope, now)
    return data


def shown_data(report: Report, now: datetime | None = None) -> dict:
    """What the report's page and exports show: the frozen snapshot once published, live figures before."""
    if report.is_published and report.snapshot is not None:
        return report.snapshot
    return report_data(report, now=now)


def _coordinators(organisation_ids: set[int]) -> list[User]:
    if not organisation_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organisation_id.in_(sorted(organisation_ids)),
                Membership.role == MembershipRole.COORDINATOR.value,
                User.active.is_(True),
            )
            .order_by(User.id)
            .distinct()
        )
    )


def concerned_organisation_ids(report: Report) -> set[int]:
    """The producers a report is about: those its scope names, the audiences of its recommendations, and the
    producer of a restitution."""
    ids = set(Scope.from_json(report.scope).producer_ids)
    ids |= {r.audience_id for r in report.recommendations if r.audience_id is not None}
    if report.producer_id is not None:
        ids.add(report.producer_id)
    return ids


def publish_report(report: Report, curator: User, now: datetime | None = None) -> Report:
    """Freeze the public figures and the recommendations into `snapshot`, publish, and tell the coordinators
    of the producers concerned."""
    _require_draft(report)
    now = now or utcnow()
    snapshot = report_data(report, public=True, now=now)
    snapshot["report"]["published_at"] = now.isoformat()
    report.snapshot = snapshot
    report.status = ReportStatus.PUBLISHED.value
    report.published_at = now
    db.session.flush()
    notify(
        _coordinators(concerned_organisation_ids(report)),
        NotificationKind.REPORT_PUBLISHED,
        f"Rapport publié : {report.title}",
        report_path(report),
        at=now,
    )
    return report


def delete_report(report: Report) -> None:
    """A draft may be thrown away; a published report stays."""
    _require_draft(report)
    db.session.delete(report)
    db.session.flush()


# Lists ------------------------------------------------------------------------------------------------------


def published_reports(page: int, size: int = 20) -> Page[Report]:
    statement = sa.select(Report).where(Report.status == ReportStatus.PUBLISHED.value)
    return paginate(statement, [Report.published_at.desc(), Report.id.desc()], page, size)


def draft_reports(limit: int = 50) -> list[Report]:
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.status == ReportStatus.DRAFT.value)
            .order_by(Report.updated_at.desc(), Report.id.desc())
            .limit(limit)
        )
    )


def reports_for_organisation(org_ids, page: int = 1, size: int = 20) -> Page[Report]:
    """The published reports that concern any of `org_ids`: a restitution to one of them, a scope naming one,
    or a recommendation addressed to one. The scopes are JSON, read in Python from one narrow query (reports
    are few: a handful a quarter)."""
    org_ids = set(org_ids)
    if not org_ids:
        return Page(items=[], total=0, number=1, size=size)
    published = Report.status == ReportStatus.PUBLISHED.value
    ids = set(
        db.session.scalars(
            sa.select(Report.id).where(
                published,
                sa.or_(
                    Report.producer_id.in_(sorted(org_ids)),
                    sa.exists().where(
                        Recommendation.report_id == Report.id, Recommendation.audience_id.in_(sorted(org_ids))
                    ),
                ),
            )
        )
    )
    for report_id, scope in db.session.execute(sa.select(Report.id, Report.scope).where(published)):
        if org_ids & set(Scope.from_json(scope).producer_ids):
            ids.add(report_id)
    if not ids:
        return Page(items=[], total=0, number=1, size=size)
    statement = sa.select(Report).where(Report.id.in_(sorted(ids)))
    return paginate(statement, [Report.published_at.desc(), Report.id.desc()], page, size)
