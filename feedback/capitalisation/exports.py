"""A report's figures as files: JSON, a French Markdown report, and CSV tables zipped together."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from feedback.clock import PARIS
from feedback.i18n import french_date, french_datetime
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
    """A day as the pages write it: `1 avril 2025`."""
    return french_date(date.fromisoformat(iso))


# What users and catalogues wrote goes into the Markdown as text, never as markup a reader's renderer would run:
# `<` and `&` are escaped (no raw HTML, no entity spelling out `javascript:`), and a link or image whose address
# names a scheme other than these points nowhere.
SAFE_LINK_SCHEMES = {"http", "https", "mailto"}
_LINK_DESTINATION = re.compile(r"(\]\(\s*|^[ \t]{0,3}\[[^\]\n]*\]:[ \t]*)([^\s)]+)", re.M)
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


def _safe_destination(found: re.Match) -> str:
    # As a renderer reads it: backslash escapes and character references (`&#58;` is `:`) undone.
    address = re.sub(r"[\s\x00-\x20]", "", html.unescape(found.group(2).replace("\\", ""))).lower()
    scheme = _SCHEME.match(address)
    if scheme and scheme.group(1) not in SAFE_LINK_SCHEMES:
        return found.group(1) + "#"
    return found.group(0)


def inert_markdown(text) -> str:
    """User or catalogue text put into the Markdown export: its emphasis and safe links are kept, its raw HTML
    shown as text, its `javascript:`/`data:`… links made empty."""
    escaped = re.sub(r"\\*([<&])", r"\\\1", str(text))
    return _LINK_DESTINATION.sub(_safe_destination, escaped)


def _cell(text) -> str:
    return inert_markdown(text).replace("|", "\\|").replace("\n", " ")


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
        lines.append("- Services : " + ", ".join(inert_markdown(p["name"]) for p in scope["producers"]))
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
    lines.append(f"- Chiffres calculés le {french_datetime(as_of)}")
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
    """The report as a French Markdown document: its heading, then one section after another."""
    lines = _heading_lines(data.get("report"))
    lines += ["## Périmètre", "", *_scope_lines(data)]
    if data.get("restitution"):
        lines += _restitution_lines(data["restitution"])
    for title, section in MARKDOWN_SECTIONS:
        lines += [f"## {title}", "", *section(data)]
    return "\n".join(lines)


def _heading_lines(report: dict | None) -> list[str]:
    title = inert_markdown(report["title"]) if report else "Rapport de capitalisation des retours sur les données"
    lines = [f"# {title}", ""]
    if report and report.get("summary"):
        lines += [inert_markdown(report["summary"].strip()), ""]
    if report and report.get("published_at"):
        published = datetime.fromisoformat(report["published_at"]).astimezone(PARIS)
        lines += [f"Publié le {french_date(published)}.", ""]
    return lines


def _volumes_section(data: dict) -> list[str]:
    previous = data["previous_period"]
    current_rows = _volume_rows(data["totals"])
    if not previous:
        return _table(["Indicateur", "Période"], [[label, _number(value)] for label, value in current_rows])
    previous_rows = dict(_volume_rows(previous["totals"]))
    heading = f"Période précédente (du {_day(previous['from'])} au {_day(previous['to'])})"
    return _table(
        ["Indicateur", "Période", heading],
        [[label, _number(value), _number(previous_rows[label])] for label, value in current_rows],
    )


def _months_section(data: dict) -> list[str]:
    if not data["by_month"]:
        return ["Aucun fil sur la période.", ""]
    return _table(
        ["Mois", "Fils", *KINDS.values()],
        [[m["month"], _number(m["threads"]), *(_number(m["by_kind"][k]) for k in KINDS)] for m in data["by_month"]],
    )


PRODUCER_COLUMNS: list[tuple[str, str, Callable[[Any], str]]] = [
    ("Service", "name", str),
    ("Reçus", "received", _number),
    ("Avec réponse", "answered", _number),
    ("Part", "answered_share", _percent),
    ("Médiane (jours ouvrés)", "median_working_days", _number),
    ("9e décile (jours ouvrés)", "p90_working_days", _number),
    ("Résolus", "resolved", _number),
    ("Refusés", "declined", _number),
    ("Demandes de données", "data_requests", _number),
    ("En retard (R124-1)", "overdue", _number),
    ("Délai moyen data.gouv.fr (jours)", "datagouv_mean_answer_days", _number),
]


def _producers_section(data: dict) -> list[str]:
    if not data["producers"]:
        return ["Aucun fil adressé à un service sur ce périmètre.", ""]
    lines = _table(
        [heading for heading, _, _ in PRODUCER_COLUMNS],
        [[shown(p[key]) for _, key, shown in PRODUCER_COLUMNS] for p in data["producers"]],
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
        lines += ["### Motifs des refus", "", *_table(["Service", "Motif", "Refus"], declines)]
    return lines


def _quality_section(data: dict) -> list[str]:
    by_category = data["quality"]["by_category"]
    if not by_category:
        return ["Aucun signalement qualité sur ce périmètre.", ""]
    lines = _table(
        ["Catégorie", "Motif", "Signalements"],
        [[_category(c), _motif(c), _number(n)] for c, n in by_category.items()],
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
    return lines


def _datasets_section(data: dict) -> list[str]:
    if not data["datasets"]:
        return ["Aucun jeu de données signalé sur ce périmètre.", ""]
    lines = _table(
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
    return [*lines, "Poids : signalements qualité + soutiens (« moi aussi ») sur ces signalements.", ""]


def _demand_section(data: dict) -> list[str]:
    cells = data["demand"]["by_theme_territory"]
    if not cells:
        return ["Aucune demande de données ni donnée manquante sur ce périmètre.", ""]
    return _table(
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


def _groups_section(data: dict) -> list[str]:
    if not data["demand_groups"]:
        return ["Aucun groupe de demandes similaires.", ""]
    return _table(
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


def _use_cases_section(data: dict) -> list[str]:
    uses = data["demand"]["use_cases"]
    rows = [[USE_CASES[code], _number(n)] for code, n in uses["by_use_case"].items() if n]
    if uses["unspecified"]:
        rows.append(["Non précisé", _number(uses["unspecified"])])
    return _table(["Cas d'usage", "Fils"], rows) if rows else ["Aucun fil sur ce périmètre.", ""]


def _recommendations_section(data: dict) -> list[str]:
    if not data["recommendations"]:
        return ["Aucune recommandation n'est encore formulée pour ce périmètre.", ""]
    names = {p["slug"]: p["name"] for p in [*data["scope"]["producers"], *data["producers"]]}
    lines: list[str] = []
    for number, r in enumerate(data["recommendations"], start=1):
        audience = r.get("audience_name") or names.get(r["audience"], r["audience"]) or "tous les services"
        priority = PRIORITIES.get(r["priority"], r["priority"])
        title, audience = inert_markdown(r["title"]), inert_markdown(audience)
        lines += [f"{number}. **{title}** — priorité {priority}, pour {audience}", ""]
        lines += [f"   {line}" if line else "" for line in inert_markdown(r["text"].strip()).splitlines()] + [""]
        if r["evidence"]["thread_ids"]:
            lines += ["   Fils concernés : " + ", ".join(f"#{i}" for i in r["evidence"]["thread_ids"]), ""]
    return lines


MARKDOWN_SECTIONS = [
    ("Volumes", _volumes_section),
    ("Fils reçus par mois", _months_section),
    ("Services producteurs", _producers_section),
    ("Qualité", _quality_section),
    ("Jeux de données les plus signalés", _datasets_section),
    ("Demande : thèmes et territoires", _demand_section),
    ("Demandes similaires", _groups_section),
    ("Cas d'usage", _use_cases_section),
    ("Recommandations", _recommendations_section),
]


PRIORITIES = {"high": "haute", "medium": "moyenne", "low": "basse"}
SHARES = {"answered_share", "overdue_share"}


def _indicator(key: str, value) -> str:
    return _percent(value) if key in SHARES else _number(value)


def _restitution_lines(restitution: dict) -> list[str]:
    lines = [
        f"## {inert_markdown(restitution['producer']['name'])} et la médiane nationale",
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
    return {name: table(data) for name, table in CSV_TABLES.items()} | _restitution_table(data.get("restitution"))


def _totals_figures(totals: dict) -> list:
    return [
        totals["threads"],
        totals["messages"],
        totals["open"],
        totals["closed"],
        *(totals["by_kind"][k] for k in KINDS),
        *(totals["by_status"][s] for s in STATUSES),
    ]


def _totals_table(data: dict) -> list[list]:
    scope, previous = data["scope"], data["previous_period"]
    rows = [
        ["period", "from", "to", "threads", "messages", "open", "closed", *KINDS, *STATUSES],
        ["current", scope["from"], scope["to"], *_totals_figures(data["totals"])],
    ]
    if previous:
        rows.append(["previous", previous["from"], previous["to"], *_totals_figures(previous["totals"])])
    return rows


def _months_table(data: dict) -> list[list]:
    return [["month", "threads", *KINDS]] + [
        [m["month"], m["threads"], *(m["by_kind"][k] for k in KINDS)] for m in data["by_month"]
    ]


PRODUCER_CSV_COLUMNS = [
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


def _producers_table(data: dict) -> list[list]:
    return [["producer", "name", "datagouv_id", *PRODUCER_CSV_COLUMNS]] + [
        [p["slug"], p["name"], p["datagouv_id"], *(p[c] for c in PRODUCER_CSV_COLUMNS)] for p in data["producers"]
    ]


def _declines_table(data: dict) -> list[list]:
    return [["producer", "reason", "label", "threads"]] + [
        [p["slug"], reason, DECLINE_REASONS.get(reason, reason), n]
        for p in data["producers"]
        for reason, n in p["declined_by_reason"].items()
    ]


def _quality_table(data: dict) -> list[list]:
    return [["producer", "category", "label", "motif", "threads"]] + [
        [p["slug"], c, _category(c), _motif(c), n]
        for p in data["producers"]
        for c, n in p["quality_by_category"].items()
    ]


def _datasets_table(data: dict) -> list[list]:
    keys = ["catalogue_id", "slug", "title", "producer", "quality_issues", "votes", "weight"]
    return [["rank", *keys]] + [[rank, *(d[k] for k in keys)] for rank, d in enumerate(data["datasets"], start=1)]


def _demand_table(data: dict) -> list[list]:
    header = ["theme_scheme", "theme_code", "theme", "territory_code", "territory", *DEMAND_COLUMNS, "total"]
    rows = [header]
    for c in data["demand"]["by_theme_territory"]:
        theme = (c["theme"]["scheme"], c["theme"]["code"], c["theme"]["label"]) if c["theme"] else (None, None, None)
        territory = (c["territory"]["code"], c["territory"]["name"]) if c["territory"] else (None, None)
        rows.append([*theme, *territory, *(c[k] for k in DEMAND_COLUMNS), c["total"]])
    return rows


def _groups_table(data: dict) -> list[list]:
    header = ["group", "theme_code", "theme", "title", "threads", "votes", "territories", "thread_ids", *DEMAND_COLUMNS]
    return [header] + [
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
    ]


def _use_cases_table(data: dict) -> list[list]:
    uses = data["demand"]["use_cases"]
    return [
        ["use_case", "label", "threads"],
        *([code, USE_CASES[code], n] for code, n in uses["by_use_case"].items()),
        ["", "Non précisé", uses["unspecified"]],
    ]


def _recommendations_table(data: dict) -> list[list]:
    return [["number", "rule", "audience", "priority", "title", "text", "thread_ids"]] + [
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
    ]


CSV_TABLES = {
    "totals.csv": _totals_table,
    "by_month.csv": _months_table,
    "producers.csv": _producers_table,
    "declines.csv": _declines_table,
    "quality.csv": _quality_table,
    "datasets.csv": _datasets_table,
    "demand.csv": _demand_table,
    "demand_groups.csv": _groups_table,
    "use_cases.csv": _use_cases_table,
    "recommendations.csv": _recommendations_table,
}


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


# What each column of each table holds: written into the zip as LISEZMOI.txt (and shown in the README).
COMMON_COLUMNS = {
    "producer": "service producteur (identifiant court, slug)",
    "name": "nom du service",
    "theme_code": "code du thème (INSPIRE ou Ecosphères)",
    "theme": "libellé du thème",
    "threads": "nombre de fils",
    "data_request": "demandes de données",
    "missing_data": "données manquantes",
}
CSV_DOCUMENTATION = {
    "totals.csv": "volumes de la période (current) et de la période précédente de même durée (previous) : "
    "fils, messages publics, ouverts, clos, par type (data_request, quality_issue, missing_data, question) et "
    "par statut",
    "by_month.csv": "fils reçus par mois (AAAA-MM) et par type",
    "producers.csv": "par service : reçus (received), répondus (answered, par une réponse ou une clôture du "
    "service), part répondue (0 à 1), médiane et 9e décile des jours ouvrés jusqu'à la première réponse, "
    "résolus, refusés, demandes de données, demandes en retard au sens de l'article R124-1 du code de "
    "l'environnement et leur part, délai moyen au sens de data.gouv.fr (jours calendaires plafonnés à 30)",
    "declines.csv": "refus par service et par motif (reason, label)",
    "quality.csv": "signalements qualité par service, catégorie et motif (taxonomie BercyHub)",
    "datasets.csv": "jeux de données les plus signalés : rang, identifiant data.gouv.fr, slug, titre, service, "
    "signalements, soutiens, poids (signalements + soutiens)",
    "demand.csv": "demandes de données et données manquantes par thème et territoire (code INSEE : FR, R84, D45)",
    "demand_groups.csv": "groupes de demandes semblables : titre, fils, soutiens, territoires, identifiants des "
    "fils (séparés par des espaces)",
    "use_cases.csv": "fils par cas d'usage déclaré (la dernière ligne : non précisé)",
    "recommendations.csv": "recommandations : règle qui l'a rédigée (vide : écrite par l'administration), "
    "service destinataire (vide : tous), priorité (high, medium, low), titre, texte en markdown, fils concernés",
    "restitution.csv": "rapport de restitution : chaque indicateur du service et la médiane des services du même "
    "périmètre",
}


def csv_readme(names: list[str]) -> str:
    """LISEZMOI.txt: how the files are written, and what each holds."""
    lines = [
        "Tables d'un rapport de capitalisation des retours sur les données Ecosphères.",
        "",
        "Format : CSV séparé par des points-virgules, encodé en UTF-8 avec marque d'ordre des octets (BOM),",
        "comme les exports de data.gouv.fr ; la première ligne nomme les colonnes. Dates : AAAA-MM-JJ (jours",
        "de Paris) ; nombres décimaux avec un point ; une case vide : aucune valeur. Un texte qui commencerait",
        "par =, +, -, @ ou une tabulation est précédé d'une apostrophe ('), pour qu'un tableur ne le lise pas",
        "comme une formule.",
        "",
        *(f"{name} : {CSV_DOCUMENTATION[name]}." for name in names if name in CSV_DOCUMENTATION),
        "",
        "Colonnes communes : "
        + " ; ".join(f"{column} = {meaning}" for column, meaning in COMMON_COLUMNS.items())
        + ".",
    ]
    return "\n".join(lines) + "\n"


# A text cell starting with one of these is read by spreadsheets as a formula (CSV injection): `=HYPERLINK(…)`
# written in a thread title would run in the curator's spreadsheet. Such a cell is written with a leading `'`.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(value) -> Any:
    """A CSV cell as a spreadsheet reads it literally: None → empty, text that opens a formula → `'` first.
    Numbers stay numbers (a negative figure is not text a user wrote)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv_zip(data: dict, path: Path | BinaryIO) -> list[str]:
    """Write the tables as CSV files in one zip, to a file or a binary stream (a download), with LISEZMOI.txt;
    returns the table files' names. The files follow data.gouv.fr's exports: `;`-separated, UTF-8 with a
    byte-order mark so that spreadsheets show accents. Each entry carries a fixed date, so the same figures
    give the same bytes whenever they are zipped."""
    tables = report_tables(data)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in tables.items():
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
            writer.writerows([[spreadsheet_safe(value) for value in row] for row in rows])
            archive.writestr(_entry(name), buffer.getvalue().encode("utf-8-sig"), zipfile.ZIP_DEFLATED)
        archive.writestr(_entry("LISEZMOI.txt"), csv_readme(list(tables)).encode("utf-8"), zipfile.ZIP_DEFLATED)
    return list(tables)


def _entry(name: str) -> zipfile.ZipInfo:
    return zipfile.ZipInfo(name, date_time=ZIP_DATE)
