"""Markdown and HTML from users or from the catalogue: what survives and what does not."""

from __future__ import annotations

import re

import pytest
from markupsafe import Markup

from feedback.markdown import plain_text, render_markdown


def tags_of(html: str) -> set[str]:
    return {name.lower() for name in re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html)}


def test_markdown_becomes_html():
    html = render_markdown("Zones **inondables** du *Loiret*, voir `PPRI`.\n\n- Gien\n- Orléans")

    assert isinstance(html, Markup)
    assert "<strong>inondables</strong>" in html
    assert "<em>Loiret</em>" in html
    assert "<code>PPRI</code>" in html
    assert "<ul>" in html
    assert "<li>Gien</li>" in html


@pytest.mark.parametrize("source", [None, ""])
def test_nothing_renders_as_nothing(source):
    assert render_markdown(source) == Markup("")
    assert plain_text(source) == ""


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>Texte",
        "Texte\n\n<script type='text/javascript'>alert(1)</script>",
        "<SCRIPT>alert(1)</SCRIPT>Texte",
        "<scr<script>ipt>alert(1)</script>Texte",
    ],
)
def test_script_elements_are_removed_with_their_content(source):
    html = render_markdown(source)

    assert "<script" not in html.lower()
    assert "alert(1)" not in html.replace("&lt;", "<")


def test_style_elements_are_removed_with_their_content():
    html = render_markdown("<style>body { display: none }</style>\n\nTexte")

    assert "<style" not in html
    assert "display" not in html
    assert "<p>Texte</p>" in html


@pytest.mark.parametrize(
    "source",
    [
        '<iframe src="https://pirate.example/"></iframe>',
        '<object data="https://pirate.example/x.swf"></object>',
        '<embed src="https://pirate.example/x.swf">',
        '<form action="https://pirate.example/"><input name="mot-de-passe"></form>',
        '<img src="https://pirate.example/pixel.gif">',
        '<svg onload="alert(1)"><circle r="1"/></svg>',
        '<meta http-equiv="refresh" content="0;url=https://pirate.example/">',
    ],
)
def test_embedding_and_form_elements_are_removed(source):
    html = render_markdown(f"Avant\n\n{source}\n\nAprès")

    assert tags_of(html) <= {"p", "br"}
    assert "pirate.example" not in html or "&lt;" in html
    assert "<p>Avant</p>" in html
    assert "<p>Après</p>" in html


@pytest.mark.parametrize(
    "source",
    [
        '<p onclick="alert(1)">Texte</p>',
        '<a href="https://exemple.fr" onmouseover="alert(1)">Texte</a>',
        '<strong onfocus="alert(1)" tabindex="1">Texte</strong>',
        '<p style="position:fixed;top:0">Texte</p>',
        '<p class="fr-hidden" id="x">Texte</p>',
    ],
)
def test_event_handlers_and_other_attributes_are_removed(source):
    html = render_markdown(source)

    assert "Texte" in html
    assert re.search(r"\son[a-z]+=", html) is None
    assert "alert" not in html
    assert "style=" not in html
    assert "class=" not in html
    assert "id=" not in html


@pytest.mark.parametrize(
    "source",
    [
        "[clic](javascript:alert(1))",
        '<a href="javascript:alert(1)">clic</a>',
        '<a href="JavaScript:alert(1)">clic</a>',
        '<a href="jav&#x09;ascript:alert(1)">clic</a>',
        '<a href="&#106;avascript:alert(1)">clic</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">clic</a>',
        '<a href="vbscript:msgbox(1)">clic</a>',
    ],
)
def test_dangerous_urls_are_removed(source):
    html = render_markdown(source)

    assert "clic" in html
    assert "href" not in html
    assert "javascript" not in html.lower()
    assert "data:" not in html


@pytest.mark.parametrize(
    ("source", "href"),
    [
        ("[le site](https://ecologie.data.gouv.fr/datasets)", "https://ecologie.data.gouv.fr/datasets"),
        ('<a href="http://www.geo-ide.fr/">le site</a>', "http://www.geo-ide.fr/"),
        ("[écrire](mailto:ddt@loiret.gouv.fr)", "mailto:ddt@loiret.gouv.fr"),
        ("<https://www.data.gouv.fr/>", "https://www.data.gouv.fr/"),
    ],
)
def test_safe_links_are_kept_with_rel_nofollow(source, href):
    html = render_markdown(source)

    link = re.search(r"<a [^>]*>", html)
    assert link, html
    assert f'href="{href}"' in link.group(0)
    rel = re.search(r'rel="([^"]*)"', link.group(0)).group(1).split()
    assert "nofollow" in rel
    assert "noopener" in rel
    assert "noreferrer" in rel


def test_link_title_is_kept():
    html = render_markdown('[site](https://exemple.fr "Le site de la DDT")')

    assert 'title="Le site de la DDT"' in html


@pytest.mark.parametrize(
    "source",
    ["# Plan de prévention", "Plan de prévention\n==================", "<h1>Plan de prévention</h1>"],
)
def test_first_level_headings_become_second_level(source):
    html = render_markdown(source)

    assert "<h1" not in html.lower()
    assert "<h2>Plan de prévention</h2>" in html


def test_lower_headings_are_kept():
    html = render_markdown("## Contexte\n\n### Méthode")

    assert "<h2>Contexte</h2>" in html
    assert "<h3>Méthode</h3>" in html


def test_tables_are_kept():
    html = render_markdown("| Commune | Aléa |\n|---|:-:|\n| Gien | Fort |")

    assert {"table", "thead", "tbody", "tr", "th", "td"} <= tags_of(html)
    assert "<td>Gien</td>" in html


def test_html_comments_are_removed():
    assert "secret" not in render_markdown("Texte <!-- secret -->")


def test_line_breaks_are_kept():
    assert "<br" in render_markdown("Ligne 1\nLigne 2")


def test_text_is_escaped_not_interpreted():
    html = render_markdown("Les valeurs 3 < 5 & 7 > 2")

    assert "3 &lt; 5 &amp; 7 &gt; 2" in html


# --- plain text ------------------------------------------------------------------------------------------


def test_plain_text_removes_tags():
    assert plain_text("<p>Zones <strong>inondables</strong> du <em>Loiret</em></p>") == "Zones inondables du Loiret"


def test_plain_text_unescapes_entities():
    assert plain_text("Risque d&#39;inondation &amp; de submersion &eacute;lev&eacute;") == (
        "Risque d'inondation & de submersion élevé"
    )


def test_plain_text_drops_scripts_and_styles_with_their_content():
    assert plain_text("<style>p { color: red }</style>Texte<script>alert(1)</script>") == "Texte"


def test_plain_text_leaves_plain_text_alone_but_trims_it():
    assert plain_text("  Atlas des zones inondables  ") == "Atlas des zones inondables"
    assert plain_text("Débit < 5 m3/s") == "Débit < 5 m3/s"


def test_plain_text_keeps_markdown_characters():
    assert plain_text("**Zonage** <b>réglementaire</b>") == "**Zonage** réglementaire"
