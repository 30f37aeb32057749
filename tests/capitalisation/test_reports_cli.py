"""`flask --app wsgi reports build`: the formats, and the refusals of bad input."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

PERIOD = ["--from", "2025-04-01", "--to", "2025-06-30"]
REPORT_KEYS = {"scope", "totals", "by_month", "producers", "datasets", "demand_groups", "recommendations"}


def build(runner, *args):
    return runner.invoke(args=["reports", "build", *args])


def test_json_goes_to_standard_output(runner, capi):
    result = build(runner, *PERIOD, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= REPORT_KEYS
    assert {"threads", "messages", "open", "closed", "by_kind", "by_status"} <= set(data["totals"])
    # the scene's public threads of the quarter (see conftest.py): 13, 21 public messages, 10 open
    assert (data["totals"]["threads"], data["totals"]["messages"], data["totals"]["open"]) == (13, 21, 10)
    assert [p["slug"] for p in data["producers"]] == ["ddt-du-loiret", "ddt-de-la-nievre"]
    # P1's overdue requests (t2) and the similar requests t8, t7: see test_recommendations.py
    assert [(r["rule"], r["audience"], r["priority"]) for r in data["recommendations"]] == [
        ("overdue_requests", "ddt-du-loiret", "high"),
        ("similar_requests", None, "medium"),
    ]
    # judged today, after 25 July 2025: t15 (open, unanswered) is overdue as well as t2
    assert data["recommendations"][0]["evidence"]["thread_ids"] == [capi.t["t2"].id, capi.t["t15"].id]
    assert result.stderr.strip().splitlines()[-1] == (
        "Rapport : 13 fil(s), 2 service(s), 1 groupe(s) de demandes similaires — affiché ci-dessus"
    )


def test_filters_by_producer_slug_or_datagouv_id_and_kind(runner, capi):
    result = build(
        runner,
        *PERIOD,
        "--producer",
        "ddt-de-la-nievre",
        "--producer",
        capi.p1.datagouv_id,
        "--kind",
        "missing_data",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["scope"]["kinds"] == ["missing_data"]
    assert [p["slug"] for p in data["scope"]["producers"]] == ["ddt-de-la-nievre", "ddt-du-loiret"]
    # missing data of P1 and P2: t8 t9 (P2), t7 (P1); t11 has no producer
    assert data["totals"]["threads"] == 3
    assert {p["slug"]: p["received"] for p in data["producers"]} == {"ddt-de-la-nievre": 2, "ddt-du-loiret": 1}


def test_json_to_a_file(runner, capi, tmp_path):
    path = tmp_path / "rapport.json"
    result = build(runner, *PERIOD, "--territory", "R24", "--format", "json", "--output", str(path))
    assert result.exit_code == 0, result.output
    assert json.loads(path.read_text(encoding="utf-8"))["totals"]["threads"] == 8  # see test_scope_filters
    assert result.stdout.strip().splitlines()[-1].endswith(f"écrit dans {path}")


def test_markdown_report_has_its_french_sections(runner, capi):
    result = build(runner, *PERIOD, "--format", "md")
    assert result.exit_code == 0, result.output
    text = result.stdout
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Rapport de capitalisation des retours sur les données",
        "## Périmètre",
        "## Volumes",
        "## Fils reçus par mois",
        "## Services producteurs",
        "### Motifs des refus",
        "## Qualité",
        "### Par service",
        "## Jeux de données les plus signalés",
        "## Demande : thèmes et territoires",
        "## Demandes similaires",
        "## Cas d'usage",
        "## Recommandations",
    ]
    assert "- Fils reçus : du 1 avril 2025 au 30 juin 2025 (dates de Paris)" in text  # as the dashboard writes them
    assert "| Fils | 13 | 2 |" in text  # this quarter, the previous one
    assert "| 2025-04 | 5 | 3 | 0 | 1 | 1 |" in text
    assert "| DDT du Loiret | Secret protégé par la loi" in text
    assert "| Zones humides de la Nièvre | Hydrographie (hy) | 2 | 2 | D45, D58 |" in text
    assert (
        "1. **Organiser le traitement des demandes de données — DDT du Loiret** — priorité haute, "
        "pour DDT du Loiret" in text
    )
    assert f"   Fils concernés : #{capi.t['t2'].id}, #{capi.t['t15'].id}" in text
    assert "2. **Envisager de produire ou d'ouvrir les données demandées : « Zones humides de la Nièvre »** — " in text


def test_csv_is_a_zip_of_one_table_per_indicator(runner, capi, tmp_path):
    path = tmp_path / "rapport.zip"
    result = build(runner, *PERIOD, "--format", "csv", "--output", str(path))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(
            [
                "totals.csv",
                "by_month.csv",
                "producers.csv",
                "declines.csv",
                "quality.csv",
                "datasets.csv",
                "demand.csv",
                "demand_groups.csv",
                "use_cases.csv",
                "recommendations.csv",
                "LISEZMOI.txt",
            ]
        )
        raw = {name: archive.read(name) for name in archive.namelist() if name.endswith(".csv")}
        readme = archive.read("LISEZMOI.txt").decode("utf-8")
    # As data.gouv.fr's exports: ';'-separated, UTF-8 with a byte-order mark (spreadsheets then show accents).
    assert all(content.startswith(b"\xef\xbb\xbf") for content in raw.values())
    tables = {
        name: list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        for name, content in raw.items()
    }
    assert "séparé par des points-virgules" in readme
    assert all(f"{name} :" in readme for name in raw)
    assert [(r["period"], r["from"], r["to"], r["threads"]) for r in tables["totals.csv"]] == [
        ("current", "2025-04-01", "2025-06-30", "13"),
        ("previous", "2024-12-31", "2025-03-31", "2"),
    ]
    assert [(r["month"], r["threads"]) for r in tables["by_month.csv"]] == [
        ("2025-04", "5"),
        ("2025-05", "4"),
        ("2025-06", "4"),
    ]
    assert [
        (r["producer"], r["received"], r["answered"], r["median_working_days"]) for r in tables["producers.csv"]
    ] == [
        ("ddt-du-loiret", "7", "4", "5.5"),
        ("ddt-de-la-nievre", "5", "2", "4.0"),
    ]
    assert [(r["producer"], r["reason"], r["threads"]) for r in tables["declines.csv"]] == [
        ("ddt-du-loiret", "confidential", "1"),
        ("ddt-de-la-nievre", "not_held", "1"),
    ]
    assert [(r["producer"], r["category"], r["motif"]) for r in tables["quality.csv"]] == [
        ("ddt-du-loiret", "dead_link", "Accessibilité"),
        ("ddt-du-loiret", "outdated", "Actualisation"),
    ]
    assert [(r["rank"], r["catalogue_id"], r["weight"]) for r in tables["datasets.csv"]] == [
        ("1", capi.d1.catalogue_id, "2"),
        ("2", capi.d2.catalogue_id, "1"),
    ]
    assert len(tables["demand.csv"]) == 5
    (group,) = tables["demand_groups.csv"]
    assert (group["theme_code"], group["threads"], group["votes"], group["territories"]) == ("hy", "2", "2", "D45 D58")
    assert group["thread_ids"] == " ".join(str(i) for i in sorted([capi.t["t8"].id, capi.t["t7"].id]))
    assert {r["use_case"]: r["threads"] for r in tables["use_cases.csv"]}["gemapi"] == "2"
    assert [(r["number"], r["rule"], r["audience"], r["thread_ids"]) for r in tables["recommendations.csv"]] == [
        ("1", "overdue_requests", "ddt-du-loiret", f"{capi.t['t2'].id} {capi.t['t15'].id}"),
        ("2", "similar_requests", "", " ".join(str(i) for i in sorted([capi.t["t8"].id, capi.t["t7"].id]))),
    ]
    assert result.stdout.strip().splitlines()[-1].endswith(f"10 tables CSV dans {path}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-13-01", "--format", "json"], "Date invalide pour --from : « 2025-13-01 »"),
        (["--to", "31/06/2025", "--format", "json"], "Date invalide pour --to : « 31/06/2025 »"),
        (["--from", "2025-07-01", "--to", "2025-06-30", "--format", "json"], "La période est vide"),
        (["--producer", "ddt-inconnue", "--format", "json"], "Service producteur introuvable : « ddt-inconnue »"),
        (["--producer", "hydro-conseil", "--format", "json"], "« Hydro-Conseil » n'est pas un service producteur"),
        (["--kind", "complaint", "--format", "json"], "Type de fil inconnu : « complaint »"),
        (["--theme", "xx", "--format", "json"], "Thème inconnu : « xx »"),
        (["--territory", "D999", "--format", "json"], "Territoire inconnu : « D999 »"),
        (["--use-case", "golf", "--format", "json"], "Cas d'usage inconnu : « golf »"),
        ([], "Indiquez le format du rapport"),
        (["--format", "pdf"], "Format inconnu : « pdf »"),
        (["--format", "csv"], "Le format csv produit un zip : indiquez le fichier avec --output"),
        (["--format", "json", "--output", "/pas/de/dossier/r.json"], "Dossier introuvable pour --output"),
    ],
)
def test_bad_input_exits_with_a_french_message(runner, capi, args, message):
    result = build(runner, *args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert result.stdout == ""


def test_help_is_french(runner):
    result = runner.invoke(args=["reports", "build", "--help"])
    assert result.exit_code == 0
    assert "Slug ou identifiant data.gouv.fr d'un service producteur" in result.output
    assert "Premier jour de réception des fils" in result.output
