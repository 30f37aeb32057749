"""A report's figures as files: JSON, a French Markdown report, and CSV tables zipped together."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from feedback.clock import PARIS
from feedback.threads.models import KIND_LABELS, STATUS_LABELS, USE_CASE_LABELS, DeclineReason, ThreadKind
from feedback.threads.taxonomy import CATEGORIES_BY_CODE

KINDS = {kind.value: label for kind, label in KIND_LABELS.items()}
STATUSES = {status.value: label for status, label in STATUS_LABELS.items()}
USE_CASES = {use_case.value: label for use_case, label in USE_CASE_LABELS.items()}
DECLINE_REASONS = {reason.value: reason.label for reason in DeclineReason}
NARROW_NBSP = "\u202f"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: entries dated by their figures, not by the clock


def report_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# Markdown ----------------------------------------------------------------------------------------------------


def _number(value) -> str:
    """French notation: 1 234 ; 12,5 ; — for nothing."""
    if value is None:
        return "—"
    text = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
    return text.replace(",", NARROW_NBSP).replace(".", ",")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{_number(round(value * 100, 1))}{NARROW_NBSP}%"


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return [*lines, ""]


def _theme(theme: dict | None) -> str:
    return f"{theme['label']} ({theme['code']})" if theme else "Sans thème"


def _territory(territory: dict | None) -> str:
    return f"{territory['name']} ({territory['code']})" if territory else "Non précisé"


def _scope_lines(data: dict) -> list[str]:
    scope = data["scope"]
    if scope["from"] and scope["to"]:
        period = f"du {_day(scope['from'])} au {_day(scope['to'])}"
    elif scope["from"]:
        period = f"depuis le {_day(scope['from'])}"
    elif scope["to"]:
        period = f"jusqu'au {_day(scope['to'])}"
    else:
        period = "depuis l'origine"
    lines = [f"- Fils reçus : {period} (dates de Paris)"]
    if scope["kinds"]:
        lines.append("- Types : " + ", ".join(KINDS.get(k, k) for k in scope["kinds"]))
    if scope["producers"]:
        lines.append("- Services : " + ", ".join(p["name"] for p in scope["producers"]))
    if scope["themes"]:
        lines.append("- Thèmes : " + ", ".join(scope["themes"]))
    if scope["territories"]:
        lines.append("- Territoires : " + ", ".join(scope["territories"]) + " (une région inclut ses départements)")
    if scope["use_cases"]:
        lines.append("- Cas d'usage : " + ", ".join(USE_CASES.get(u, u) for u in scope["use_cases"]))
    if scope["include_restricted"]:
        lines.append("- **Demandes restreintes incluses : rapport interne, à ne pas publier.**")
    else:
        lines.append("- Les demandes restreintes ne sont pas comptées.")
    as_of = datetime.fromisoformat(data["as_of"]).astimezone(PARIS)
    lines.append(f"- Chiffres calculés le {as_of.strftime('%d/%m/%Y à %H:%M')}")
    return [*lines, ""]


def _volume_rows(totals: dict) -> list[tuple[str, int]]:
    rows = [
        ("Fils", totals["threads"]),
        ("Messages publics", totals["messages"]),
        ("Ouverts", totals["open"]),
        ("Clos", totals["closed"]),
    ]
    rows += [(label, totals["by_kind"][kind]) for kind, label in KINDS.items()]
    rows += [(f"Statut « {label} »", totals["by_status"][status]) for status, label in STATUSES.items()]
    return rows


def report_markdown(data: dict) -> str:
    report = data.get("report")
    lines = [f"# {report['title'] if report else 'Rapport de capitalisation des retours sur les données'}", ""]
    if report and report.get("summary"):
        lines += [report["summary"].strip(), ""]
    if report and report.get("published_at"):
        published = datetime.fromisoformat(report["published_at"]).astimezone(PARIS)
        lines += [f"Publié le {published.strftime('%d/%m/%Y')}.", ""]
    lines += ["## Périmètre", ""]
    lines += _scope_lines(data)
    if data.get("restitution"):
        lines += _restitution_lines(data["restitution"])

    lines += ["## Volumes", ""]
    previous = data["previous_period"]
    current_rows = _volume_rows(data["totals"])
    if previous:
        previous_rows = dict(_volume_rows(previous["totals"]))
        heading = f"Période précédente ({_day(previous['from'])} – {_day(previous['to'])})"
        lines += _table(
            ["Indicateur", "Période", heading],
            [[label, _number(value), _number(previous_rows[label])] for label, value in current_rows],
        )
    else:
        lines += _table(["Indicateur", "Période"], [[label, _number(value)] for label, value in current_rows])

    lines += ["## Fils reçus par mois", ""]
    if data["by_month"]:
        lines += _table(
            ["Mois", "Fils", *KINDS.values()],
            [[m["month"], _number(m["threads"]), *(_number(m["by_kind"][k]) for k in KINDS)] for m in data["by_month"]],
        )
    else:
        lines += ["Aucun fil sur la période.", ""]

    lines += ["## Services producteurs", ""]
    if data["producers"]:
        lines += _table(
            [
                "Service",
                "Reçus",
                "Avec réponse",
                "Part",
                "Médiane (jours ouvrés)",
                "9e décile (jours ouvrés)",
                "Résolus",
                "Refusés",
                "Demandes de données",
                "En retard (R124-1)",
                "Délai moyen data.gouv.fr (jours)",
            ],
            [
                [
                    p["name"],
                    _number(p["received"]),
                    _number(p["answered"]),
                    _percent(p["answered_share"]),
                    _number(p["median_working_days"]),
                    _number(p["p90_working_days"]),
                    _number(p["resolved"]),
                    _number(p["declined"]),
                    _number(p["data_requests"]),
                    _number(p["overdue"]),
                    _number(p["datagouv_mean_answer_days"]),
                ]
                for p in data["producers"]
            ],
        )
        lines += [
            "Délai data.gouv.fr : moyenne des jours calendaires jusqu'à la première réponse du service, chaque "
            "délai plafonné à 30 jours, un fil sans réponse comptant pour 30.",
            "",
        ]
        declines = [
            [p["name"], DECLINE_REASONS.get(reason, reason), _number(count)]
            for p in data["producers"]
            for reason, count in p["declined_by_reason"].items()
        ]
        if declines:
            lines += ["### Motifs des refus", ""]
            lines += _table(["Service", "Motif", "Refus"], declines)
    else:
        lines += ["Aucun fil adressé à un service sur ce périmètre.", ""]

    lines += ["## Qualité", ""]
    by_category = data["quality"]["by_category"]
    if by_category:
        lines += _table(
            ["Catégorie", "Motif", "Signalements"],
            [
                [CATEGORIES_BY_CODE[c].label if c in CATEGORIES_BY_CODE else c, _motif(c), _number(n)]
                for c, n in by_category.items()
            ],
        )
        per_producer = [p for p in data["producers"] if p["quality_by_category"]]
        if per_producer:
            lines += ["### Par service", ""]
            lines += _table(
                ["Service", "Par motif", "Par catégorie"],
                [
                    [
                        p["name"],
                        ", ".join(f"{motif} : {n}" for motif, n in p["quality_by_motif"].items()),
                        ", ".join(f"{_category(c)} : {n}" for c, n in p["quality_by_category"].items()),
                    ]
                    for p in per_producer
                ],
            )
    else:
        lines += ["Aucun signalement qualité sur ce périmètre.", ""]

    lines += ["## Jeux de données les plus signalés", ""]
    if data["datasets"]:
        lines += _table(
            ["Rang", "Jeu de données", "Service", "Signalements", "Soutiens", "Poids"],
            [
                [
                    rank,
                    d["title"],
                    d["producer"] or "—",
                    _number(d["quality_issues"]),
                    _number(d["votes"]),
                    _number(d["weight"]),
                ]
                for rank, d in enumerate(data["datasets"], start=1)
            ],
        )
        lines += ["Poids : signalements qualité + soutiens (« moi aussi ») sur ces signalements.", ""]
    else:
        lines += ["Aucun jeu de données signalé sur ce périmètre.", ""]

    lines += ["## Demande : thèmes et territoires", ""]
    cells = data["demand"]["by_theme_territory"]
    if cells:
        lines += _table(
            ["Thème", "Territoire", KINDS["data_request"], KINDS["missing_data"], "Total"],
            [
                [
                    _theme(c["theme"]),
                    _territory(c["territory"]),
                    _number(c[ThreadKind.DATA_REQUEST.value]),
                    _number(c[ThreadKind.MISSING_DATA.value]),
                    _number(c["total"]),
                ]
                for c in cells
            ],
        )
    else:
        lines += ["Aucune demande de données ni donnée manquante sur ce périmètre.", ""]

    lines += ["## Demandes similaires", ""]
    if data["demand_groups"]:
        lines += _table(
            ["Demande", "Thème", "Fils", "Soutiens", "Territoires", "Fils concernés"],
            [
                [
                    g["title"],
                    _theme(g["theme"]),
                    _number(g["threads"]),
                    _number(g["votes"]),
                    ", ".join(g["territories"]) or "—",
                    ", ".join(f"#{i}" for i in g["thread_ids"]),
                ]
                for g in data["demand_groups"]
            ],
        )
    else:
        lines += ["Aucun groupe de demandes similaires.", ""]

    lines += ["## Cas d'usage", ""]
    uses = data["demand"]["use_cases"]
    rows = [[USE_CASES[code], _number(n)] for code, n in uses["by_use_case"].items() if n]
    if uses["unspecified"]:
        rows.append(["Non précisé", _number(uses["unspecified"])])
    lines += _table(["Cas d'usage", "Fils"], rows) if rows else ["Aucun fil sur ce périmètre.", ""]

    lines += ["## Recommandations", ""]
    if data["recommendations"]:
        names = {p["slug"]: p["name"] for p in [*data["scope"]["producers"], *data["producers"]]}
        for number, r in enumerate(data["recommendations"], start=1):
            audience = r.get("audience_name") or names.get(r["audience"], r["audience"]) or "tous les services"
            lines += [
                f"{number}. **{r['title']}** — priorité {PRIORITIES.get(r['priority'], r['priority'])}, "
                f"pour {audience}",
                "",
            ]
            lines += [f"   {line}" if line else "" for line in r["text"].strip().splitlines()] + [""]
            if r["evidence"]["thread_ids"]:
                lines += ["   Fils concernés : " + ", ".join(f"#{i}" for i in r["evidence"]["thread_ids"]), ""]
    else:
        lines += ["Aucune recommandation n'est encore formulée pour ce périmètre.", ""]
    return "\n".join(lines)


PRIORITIES = {"high": "haute", "medium": "moyenne", "low": "basse"}
SHARES = {"answered_share", "overdue_share"}


def _indicator(key: str, value) -> str:
    return _percent(value) if key in SHARES else _number(value)


def _restitution_lines(restitution: dict) -> list[str]:
    lines = [
        f"## {restitution['producer']['name']} et la médiane nationale",
        "",
        f"Médiane de chaque indicateur sur les {_number(restitution['producers'])} services producteurs qui ont "
        "reçu des fils sur le même périmètre.",
        "",
    ]
    return lines + _table(
        ["Indicateur", restitution["producer"]["name"], "Médiane nationale"],
        [
            [row["label"], _indicator(row["key"], row["producer"]), _indicator(row["key"], row["national_median"])]
            for row in restitution["indicators"]
        ],
    )


def _category(code: str) -> str:
    category = CATEGORIES_BY_CODE.get(code)
    return category.label if category else code


def _motif(code: str) -> str:
    category = CATEGORIES_BY_CODE.get(code)
    return category.motif if category else "Autre"


# CSV ---------------------------------------------------------------------------------------------------------


def report_tables(data: dict) -> dict[str, list[list]]:
    """One table per indicator: file name → rows, the first being the header."""
    kinds, statuses = list(KINDS), list(STATUSES)

    def figures(totals: dict) -> list:
        return [
            totals["threads"],
            totals["messages"],
            totals["open"],
            totals["closed"],
            *(totals["by_kind"][k] for k in kinds),
            *(totals["by_status"][s] for s in statuses),
        ]

    scope, previous = data["scope"], data["previous_period"]
    totals = [
        ["period", "from", "to", "threads", "messages", "open", "closed", *kinds, *statuses],
        ["current", scope["from"], scope["to"], *figures(data["totals"])],
    ]
    if previous:
        totals.append(["previous", previous["from"], previous["to"], *figures(previous["totals"])])

    producer_columns = [
        "received",
        "answered",
        "answered_share",
        "median_working_days",
        "p90_working_days",
        "resolved",
        "declined",
        "data_requests",
        "overdue",
        "overdue_share",
        "datagouv_mean_answer_days",
    ]
    return {
        "totals.csv": totals,
        "by_month.csv": [["month", "threads", *kinds]]
        + [[m["month"], m["threads"], *(m["by_kind"][k] for k in kinds)] for m in data["by_month"]],
        "producers.csv": [["producer", "name", "datagouv_id", *producer_columns]]
        + [[p["slug"], p["name"], p["datagouv_id"], *(p[c] for c in producer_columns)] for p in data["producers"]],
        "declines.csv": [["producer", "reason", "label", "threads"]]
        + [
            [p["slug"], reason, DECLINE_REASONS.get(reason, reason), n]
            for p in data["producers"]
            for reason, n in p["declined_by_reason"].items()
        ],
        "quality.csv": [["producer", "category", "label", "motif", "threads"]]
        + [
            [p["slug"], c, _category(c), _motif(c), n]
            for p in data["producers"]
            for c, n in p["quality_by_category"].items()
        ],
        "datasets.csv": [["rank", "catalogue_id", "slug", "title", "producer", "quality_issues", "votes", "weight"]]
        + [
            [
                rank,
                d["catalogue_id"],
                d["slug"],
                d["title"],
                d["producer"],
                d["quality_issues"],
                d["votes"],
                d["weight"],
            ]
            for rank, d in enumerate(data["datasets"], start=1)
        ],
        "demand.csv": [["theme_scheme", "theme_code", "theme", "territory_code", "territory", *DEMAND_COLUMNS, "total"]]
        + [
            [
                *(
                    (c["theme"]["scheme"], c["theme"]["code"], c["theme"]["label"])
                    if c["theme"]
                    else (None, None, None)
                ),
                *((c["territory"]["code"], c["territory"]["name"]) if c["territory"] else (None, None)),
                *(c[k] for k in DEMAND_COLUMNS),
                c["total"],
            ]
            for c in data["demand"]["by_theme_territory"]
        ],
        "demand_groups.csv": [
            ["group", "theme_code", "theme", "title", "threads", "votes", "territories", "thread_ids", *DEMAND_COLUMNS]
        ]
        + [
            [
                number,
                g["theme"]["code"] if g["theme"] else None,
                g["theme"]["label"] if g["theme"] else None,
                g["title"],
                g["threads"],
                g["votes"],
                " ".join(g["territories"]),
                " ".join(str(i) for i in g["thread_ids"]),
                *(g["by_kind"][k] for k in DEMAND_COLUMNS),
            ]
            for number, g in enumerate(data["demand_groups"], start=1)
        ],
        "use_cases.csv": [["use_case", "label", "threads"]]
        + [[code, USE_CASES[code], n] for code, n in data["demand"]["use_cases"]["by_use_case"].items()]
        + [["", "Non précisé", data["demand"]["use_cases"]["unspecified"]]],
        "recommendations.csv": [["number", "rule", "audience", "priority", "title", "text", "thread_ids"]]
        + [
            [
                number,
                r["rule"],
                r["audience"],
                r["priority"],
                r["title"],
                r["text"],
                " ".join(str(i) for i in r["evidence"]["thread_ids"]),
            ]
            for number, r in enumerate(data["recommendations"], start=1)
        ],
    } | _restitution_table(data.get("restitution"))


def _restitution_table(restitution: dict | None) -> dict[str, list[list]]:
    if not restitution:
        return {}
    return {
        "restitution.csv": [["indicator", "label", "producer", "national_median", "producers_counted"]]
        + [
            [row["key"], row["label"], row["producer"], row["national_median"], row["producers_counted"]]
            for row in restitution["indicators"]
        ]
    }


DEMAND_COLUMNS = [ThreadKind.DATA_REQUEST.value, ThreadKind.MISSING_DATA.value]


def write_csv_zip(data: dict, path: Path | BinaryIO) -> list[str]:
    """Write the tables as CSV files (comma-separated, UTF-8) in one zip, to a file or a binary stream (a
    download); returns the file names. Each entry carries a fixed date, so the same figures give the same
    bytes whenever they are zipped."""
    tables = report_tables(data)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in tables.items():
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerows([["" if value is None else value for value in row] for row in rows])
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE), buffer.getvalue(), zipfile.ZIP_DEFLATED)
    return list(tables)
