"""User and catalogue text is rendered once, when it is written (the renderer's cost is tested in
test_markdown.py): pages show the stored HTML; `texts render` renders it again; the preview is bounded and
rate-limited."""

from __future__ import annotations

import sqlalchemy as sa

from feedback.capitalisation import services as reports
from feedback.capitalisation.scope import Scope
from feedback.catalogue.models import Dataset
from feedback.threads import services
from feedback.threads.models import Message, ThreadKind

from . import factories

LIMIT = services.MAX_BODY_LENGTH


# Stored, shown, rendered again -----------------------------------------------------------------------------


def test_pages_show_the_html_stored_when_the_text_was_written(client, db):
    dataset = factories.create_dataset(description="Atlas **officiel** des zones inondables.")
    db.session.commit()
    assert dataset.description_html == "<p>Atlas <strong>officiel</strong> des zones inondables.</p>"
    # What the page shows is what is stored, not a new rendering of the source.
    db.session.execute(
        sa.update(Dataset).where(Dataset.id == dataset.id).values(description_html="<p>Ce qui est enregistré</p>")
    )
    db.session.commit()

    page = client.get(f"/jeux-de-donnees/{dataset.catalogue_id}").get_data(as_text=True)

    assert "Ce qui est enregistré" in page
    assert "<strong>officiel</strong>" not in page


def test_report_texts_are_stored_rendered(db):
    curator = factories.create_user(role="curator")
    report = reports.create_report(curator, "Bilan", Scope(), summary="Un **bilan**.")
    recommendation = reports.add_recommendation(report, title="Publier", text="Publier les *dictionnaires*.")
    db.session.commit()

    assert report.summary_html == "<p>Un <strong>bilan</strong>.</p>"
    assert recommendation.text_html == "<p>Publier les <em>dictionnaires</em>.</p>"


def test_texts_render_renders_stale_html_again(runner, db):
    author = factories.create_user()
    dataset = factories.create_dataset(description="Une *description*.", organisation=factories.create_organisation())
    services.create_thread(
        author,
        services.NewThread(kind=ThreadKind.QUESTION, title="Source", body="Quelle **source** ?", dataset=dataset),
    )
    db.session.commit()
    stale = "<p>rendu par une ancienne version</p>"
    db.session.execute(sa.update(Dataset).values(description_html=stale))
    db.session.execute(sa.update(Message).values(body_html=stale))
    db.session.commit()

    result = runner.invoke(args=["texts", "render"])

    assert result.exit_code == 0, result.output
    assert "1 message(s), 1 description(s) de jeux de données, 0 résumé(s) de rapport" in result.output
    assert db.session.scalar(sa.select(Dataset.description_html)) == "<p>Une <em>description</em>.</p>"
    assert db.session.scalar(sa.select(Message.body_html)) == "<p>Quelle <strong>source</strong> ?</p>"
    again = runner.invoke(args=["texts", "render"])
    assert "0 message(s), 0 description(s) de jeux de données, 0 résumé(s) de rapport, 0 recommandation(s)" in (
        again.output
    )


def test_texts_render_has_help(runner):
    result = runner.invoke(args=["texts", "render", "--help"])

    assert result.exit_code == 0
    assert "Rendre à nouveau" in result.output


# The preview ---------------------------------------------------------------------------------------------------


def test_the_preview_is_rate_limited(limited_app, db):
    client = limited_app.test_client()

    answers = [client.post("/fils/apercu", data={"body": "**essai**"}).status_code for _ in range(31)]

    assert answers[:30] == [200] * 30
    assert answers[30] == 429


def test_the_preview_renders_at_most_a_message(client, db):
    response = client.post("/fils/apercu", data={"body": "a" * LIMIT + "FIN-DU-TEXTE"})

    assert response.status_code == 200
    assert "FIN-DU-TEXTE" not in response.get_data(as_text=True)
