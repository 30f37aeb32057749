"""Rules that turn a report's figures into draft recommendations for the producers.

Each rule reads the indicators of `indicators.build_report_data` and, where a figure passes its threshold,
drafts one recommendation: who it is for (a producer's slug, or None for every producer), a priority, a French
title and markdown text, and its evidence — the figures it rests on and the ids of the threads behind them.
Those ids come from SQL over the same scope as the figures, so a restricted thread is never evidence unless
the scope counts restricted threads. The order is fixed: priority, then the rules' order, then the producers'
order of the figures, so that the same threads draft the same list on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app

from feedback.accounts.models import Organisation
from feedback.capitalisation.models import Priority
from feedback.capitalisation.scope import Scope
from feedback.extensions import db
from feedback.threads.models import Thread, ThreadKind

# Dead links: one report may be a passing outage of a server; two in the period, on the datasets of one
# producer, show that its download links or services are not watched.
DEAD_LINK_MIN_REPORTS = 2
DEAD_LINK_CATEGORY = "dead_link"

# Overdue data requests (R124-1): below four requests, a single late answer is a third of them or more,
# which says more about chance than about how requests are handled; from four, one late answer in four
# (25 %) means the one-month deadline is missed often enough to need an organisation, not a reminder.
OVERDUE_MIN_DATA_REQUESTS = 4
OVERDUE_SHARE_THRESHOLD = 0.25

# Similar requests: the same need coming from two territories or more is no longer a local wish but a gap in
# what is published; from three territories it is a national one, worth a high priority.
DEMAND_MIN_TERRITORIES = 2
DEMAND_HIGH_PRIORITY_TERRITORIES = 3
# A report is read by people: past the twenty largest groups (most threads, then most votes), a list of needs
# is a catalogue that the report's demand table and its exports already give in full.
DEMAND_MAX_RECOMMENDATIONS = 20

# Undocumented variables (the BercyHub sub-motif "Absence de description des variables"): twice in the
# period at one producer means its users keep guessing what the columns mean, which a data dictionary
# answers once for all.
UNDOCUMENTED_MIN_REPORTS = 2
UNDOCUMENTED_CATEGORY = "undocumented_variables"

# Slow first answers: a median over the service target (FEEDBACK_SERVICE_TARGET_WORKING_DAYS, 15 working
# days unless configured) means half of the threads wait longer than promised. A median of fewer than three
# answers is one or two threads, not a habit. Twice the target is a high priority.
SLOW_MIN_ANSWERED = 3
DEFAULT_TARGET_WORKING_DAYS = 15

RULES = ("dead_links", "overdue_requests", "similar_requests", "undocumented_variables", "slow_answers")
PRIORITY_ORDER = [Priority.HIGH.value, Priority.MEDIUM.value, Priority.LOW.value]
TITLE_LENGTH = 200


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def _recommendation(rule, audience, priority, title, text, figures, thread_ids) -> dict:
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1].rstrip() + "…"
    return {
        "rule": rule,
        "audience": audience,
        "priority": priority.value,
        "title": title,
        "text": text,
        "evidence": {"figures": figures, "thread_ids": sorted(thread_ids)},
    }


def _organisation_ids(slugs) -> dict[str, int]:
    if not slugs:
        return {}
    return dict(
        db.session.execute(sa.select(Organisation.slug, Organisation.id).where(Organisation.slug.in_(slugs))).all()
    )


def _quality_ids(scope: Scope, categories: dict[str, set[int]]) -> dict[tuple[str | None, int | None], list[int]]:
    """The quality issues of the scope of each (category, producer) asked for, in one query."""
    wanted = [(category, ids) for category, ids in categories.items() if ids]
    if not wanted:
        return {}
    result: dict[tuple[str | None, int | None], list[int]] = defaultdict(list)
    for category, organisation_id, thread_id in db.session.execute(
        sa.select(Thread.quality_category, Thread.organisation_id, Thread.id)
        .where(
            scope.condition(),
            Thread.kind == ThreadKind.QUALITY_ISSUE.value,
            sa.or_(
                *(
                    sa.and_(Thread.quality_category == category, Thread.organisation_id.in_(sorted(ids)))
                    for category, ids in wanted
                )
            ),
        )
        .order_by(Thread.id)
    ):
        result[(category, organisation_id)].append(thread_id)
    return result


def _quality_rule(rule, category, minimum, priority, producers, ids_by_slug, evidence, wording) -> list[dict]:
    drafts = []
    for producer in producers:
        count = producer["quality_by_category"].get(category, 0)
        if count < minimum:
            continue
        title, text = wording(producer["name"], count)
        drafts.append(
            _recommendation(
                rule,
                producer["slug"],
                priority,
                title,
                text,
                {category: count, "quality_issues": sum(producer["quality_by_category"].values())},
                evidence.get((category, ids_by_slug[producer["slug"]]), []),
            )
        )
    return drafts


class Wording(NamedTuple):
    title: str
    text: str  # markdown


def _dead_links_wording(name: str, count: int) -> Wording:
    return Wording(
        f"Vérifier les liens de téléchargement et les services de diffusion — {name}",
        f"{_plural(count, 'signalement', 'signalements')} de liens morts ou de services indisponibles portent "
        f"sur les jeux de données du service {name} pendant la période.\n\n"
        "Vérifier les liens de téléchargement et les services de diffusion (WMS, WFS, Atom) déclarés dans les "
        "fiches du catalogue, corriger ou retirer ceux qui ne répondent plus, puis répondre aux signalements. "
        "Une vérification régulière et automatique des liens évite que les usagers ne les découvrent morts.",
    )


def _undocumented_wording(name: str, count: int) -> Wording:
    return Wording(
        f"Publier les dictionnaires de données — {name}",
        f"{_plural(count, 'signalement', 'signalements')} « Variables non documentées » portent sur les jeux "
        f"de données du service {name} pendant la période : les usagers ne savent pas ce que contiennent "
        "les colonnes.\n\n"
        "Publier avec chaque jeu concerné un dictionnaire des données (nom, définition, unité, valeurs "
        "possibles de chaque variable), le joindre à la fiche du catalogue et le citer dans la réponse aux "
        "signalements.",
    )


def _overdue_rule(scope: Scope, producers, ids_by_slug, overdue) -> list[dict]:
    firing = [
        p
        for p in producers
        if p["data_requests"] >= OVERDUE_MIN_DATA_REQUESTS
        and p["overdue_share"] is not None
        and p["overdue_share"] >= OVERDUE_SHARE_THRESHOLD
    ]
    if not firing:
        return []
    evidence: dict[int | None, list[int]] = defaultdict(list)
    for organisation_id, thread_id in db.session.execute(
        sa.select(Thread.organisation_id, Thread.id)
        .where(scope.condition(), overdue, Thread.organisation_id.in_([ids_by_slug[p["slug"]] for p in firing]))
        .order_by(Thread.id)
    ):
        evidence[organisation_id].append(thread_id)
    drafts = []
    for p in firing:
        share = round(p["overdue_share"] * 100)
        drafts.append(
            _recommendation(
                "overdue_requests",
                p["slug"],
                Priority.HIGH,
                f"Organiser le traitement des demandes de données — {p['name']}",
                f"{p['overdue']} des {p['data_requests']} demandes de données adressées au service {p['name']} "
                f"({share}\u202f%) {'a' if p['overdue'] == 1 else 'ont'} dépassé l'échéance d'un mois de l'article "
                "R124-1 du Code de l'environnement : réponse tardive, ou demande encore ouverte après l'échéance.\n\n"
                "Désigner un référent qui suit les échéances dans la boîte de réception, prolonger le délai à "
                "deux mois en le motivant dans le premier mois quand la demande est volumineuse ou complexe, et "
                "transférer sans attendre les demandes qui relèvent d'un autre service.",
                {
                    "data_requests": p["data_requests"],
                    "overdue": p["overdue"],
                    "overdue_share": p["overdue_share"],
                },
                evidence.get(ids_by_slug[p["slug"]], []),
            )
        )
    return drafts


def _similar_requests_rule(groups: list[dict]) -> list[dict]:
    # `groups` come largest first (see indicators.similar_request_groups).
    firing = [g for g in groups if len(g["territories"]) >= DEMAND_MIN_TERRITORIES][:DEMAND_MAX_RECOMMENDATIONS]
    if not firing:
        return []
    # The producer each thread is addressed to: a group asked of one producer only is for that producer.
    ids = sorted({i for g in firing for i in g["thread_ids"]})
    producer_of = dict(
        db.session.execute(
            sa.select(Thread.id, Organisation.slug)
            .outerjoin(Organisation, Organisation.id == Thread.organisation_id)
            .where(Thread.id.in_(ids))
        ).all()
    )
    drafts = []
    for g in firing:
        audiences = {producer_of.get(i) for i in g["thread_ids"]}
        audience = audiences.pop() if len(audiences) == 1 else None
        territories = len(g["territories"])
        theme = f" (thème {g['theme']['label']})" if g["theme"] else ""
        drafts.append(
            _recommendation(
                "similar_requests",
                audience,
                Priority.HIGH if territories >= DEMAND_HIGH_PRIORITY_TERRITORIES else Priority.MEDIUM,
                f"Envisager de produire ou d'ouvrir les données demandées : « {g['title']} »",
                f"{_plural(g['threads'], 'demande similaire', 'demandes similaires')}{theme} viennent de "
                f"{territories} territoires ({', '.join(g['territories'])}) et portent sur le même besoin que "
                f"« {g['title']} », avec {_plural(g['votes'], 'soutien', 'soutiens')}.\n\n"
                "Vérifier si ces données existent déjà dans un service (les publier ou les ouvrir), sinon "
                "étudier leur production à l'échelle qui couvre ces territoires, et répondre ensemble à ces "
                "demandes en citant le jeu de données publié.",
                {
                    "threads": g["threads"],
                    "votes": g["votes"],
                    "territories": g["territories"],
                    "theme": g["theme"]["code"] if g["theme"] else None,
                },
                g["thread_ids"],
            )
        )
    return drafts


def _slow_answers_rule(scope: Scope, producers, ids_by_slug, target: int) -> list[dict]:
    firing = [
        p
        for p in producers
        if p["answered"] >= SLOW_MIN_ANSWERED
        and p["median_working_days"] is not None
        and p["median_working_days"] > target
    ]
    if not firing:
        return []
    # The threads answered later than the target, in working days (kept by each thread, as for the median).
    late: dict[int | None, list[int]] = defaultdict(list)
    for organisation_id, thread_id in db.session.execute(
        sa.select(Thread.organisation_id, Thread.id)
        .where(
            scope.condition(),
            Thread.response_working_days > target,
            Thread.organisation_id.in_([ids_by_slug[p["slug"]] for p in firing]),
        )
        .order_by(Thread.id)
    ):
        late[organisation_id].append(thread_id)
    drafts = []
    for p in firing:
        median = p["median_working_days"]
        shown = f"{median:g}".replace(".", ",")
        drafts.append(
            _recommendation(
                "slow_answers",
                p["slug"],
                Priority.HIGH if median > 2 * target else Priority.MEDIUM,
                f"Accélérer les premières réponses — {p['name']}",
                f"La moitié des fils adressés au service {p['name']} attendent plus de {shown} jours ouvrés "
                f"leur première réponse, au-delà de l'objectif de {target} jours ouvrés.\n\n"
                "Accuser réception dès l'arrivée d'un fil, même sans réponse complète, demander tôt les précisions "
                "nécessaires, et répartir les fils entre les membres du service (assignation).",
                {"answered": p["answered"], "median_working_days": median, "target_working_days": target},
                late.get(ids_by_slug[p["slug"]], []),
            )
        )
    return drafts


def draft_recommendations(scope: Scope, data: dict, *, overdue) -> list[dict]:
    """The recommendations that the figures `data` of `scope` call for. `overdue` is the SQL condition the
    figures counted overdue requests with, so that the evidence is exactly the threads counted."""
    producers = data["producers"]
    ids_by_slug = _organisation_ids([p["slug"] for p in producers])
    quality_firing = {
        DEAD_LINK_CATEGORY: {
            ids_by_slug[p["slug"]]
            for p in producers
            if p["quality_by_category"].get(DEAD_LINK_CATEGORY, 0) >= DEAD_LINK_MIN_REPORTS
        },
        UNDOCUMENTED_CATEGORY: {
            ids_by_slug[p["slug"]]
            for p in producers
            if p["quality_by_category"].get(UNDOCUMENTED_CATEGORY, 0) >= UNDOCUMENTED_MIN_REPORTS
        },
    }
    quality_evidence = _quality_ids(scope, quality_firing)
    target = current_app.config.get("FEEDBACK_SERVICE_TARGET_WORKING_DAYS", DEFAULT_TARGET_WORKING_DAYS)
    drafts = [
        *_quality_rule(
            "dead_links",
            DEAD_LINK_CATEGORY,
            DEAD_LINK_MIN_REPORTS,
            Priority.HIGH,
            producers,
            ids_by_slug,
            quality_evidence,
            _dead_links_wording,
        ),
        *_overdue_rule(scope, producers, ids_by_slug, overdue),
        *_similar_requests_rule(data["demand_groups"]),
        *_quality_rule(
            "undocumented_variables",
            UNDOCUMENTED_CATEGORY,
            UNDOCUMENTED_MIN_REPORTS,
            Priority.MEDIUM,
            producers,
            ids_by_slug,
            quality_evidence,
            _undocumented_wording,
        ),
        *_slow_answers_rule(scope, producers, ids_by_slug, target),
    ]
    # sorted() is stable: within a priority, the rules' order and then the producers' order stay.
    return sorted(drafts, key=lambda r: PRIORITY_ORDER.index(r["priority"]))
