from __future__ import annotations

from flask import current_app
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from feedback.forms import Form
from feedback.i18n import french_size
from feedback.threads.attachments import ALLOWED_LABELS
from feedback.threads.models import DeclineReason, RequestWant, ThreadKind, UseCase
from feedback.threads.services import MAX_BODY_LENGTH, MAX_TITLE_LENGTH
from feedback.threads.taxonomy import QUALITY_CATEGORIES

REQUIRED = "Ce champ est obligatoire."
BODY_TOO_LONG = f"Le message ne doit pas dépasser {MAX_BODY_LENGTH:,} caractères.".replace(",", "\u202f")


def _body(label: str, description: str = "") -> TextAreaField:
    return TextAreaField(
        label,
        description=description or "Mise en forme Markdown : **gras**, *italique*, listes, [liens](https://…).",
        validators=[DataRequired(REQUIRED), Length(max=MAX_BODY_LENGTH, message=BODY_TOO_LONG)],
        render_kw={"rows": 8},
    )


class FilesForm(Form):
    """A form of a message that may carry files (`threads.attachments`); the hint says the limits in force."""

    files = MultipleFileField("Fichiers joints (facultatif)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = current_app.config
        self.files.description = (
            f"{config['FEEDBACK_UPLOAD_MAX_FILES']} fichiers au plus, "
            f"{french_size(config['FEEDBACK_UPLOAD_MAX_BYTES'])} chacun. Formats : {ALLOWED_LABELS}."
        )


class NewThreadForm(FilesForm):
    title = StringField(
        "Titre",
        description="Une phrase qui résume votre message.",
        validators=[
            DataRequired(REQUIRED),
            Length(max=MAX_TITLE_LENGTH, message=f"{MAX_TITLE_LENGTH} caractères au plus."),
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_TITLE_LENGTH},
    )
    dataset = StringField(
        "Jeu de données",
        description="Son titre, son identifiant, son adresse data.gouv.fr ou Ecosphères, ou sa fiche Géo-IDE.",
        validators=[Optional(), Length(max=2000)],
        render_kw={"autocomplete": "off"},
    )
    organisation = SelectField("Service producteur", validators=[Optional()], choices=[])
    quality_category = SelectField(
        "Nature du problème",
        choices=[("", "Choisissez une option")] + [(c.code, c.label) for c in QUALITY_CATEGORIES],
        validators=[Optional()],
    )
    request_want = SelectField(
        "Ce que vous demandez",
        choices=[("", "Choisissez une option")] + [(w.value, w.label) for w in RequestWant],
        validators=[Optional()],
    )
    use_case = SelectField(
        "Pour quel usage ?",
        choices=[("", "Choisissez une option")] + [(u.value, u.label) for u in UseCase],
        validators=[Optional()],
    )
    territory = SelectField("Territoire", validators=[Optional()], choices=[])
    theme = SelectField("Thème", validators=[Optional()], choices=[])
    related_datasets = TextAreaField(
        "Jeux de données proches (facultatif)",
        description="Un titre, un identifiant ou une adresse par ligne : des données voisines de celle qui manque.",
        validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 3},
    )
    wished_on = DateField("Date souhaitée (facultatif)", validators=[Optional()], format="%Y-%m-%d")
    restricted = BooleanField(
        "Demande restreinte : visible seulement de vous, du service producteur et des administrateurs des données"
    )
    body = _body("Votre message")


class ReplyForm(FilesForm):
    body = _body("Votre réponse")
    internal = BooleanField("Note interne (visible seulement du service et des administrateurs des données)")


class EditMessageForm(Form):
    body = _body("Message")


class VersionedForm(Form):
    """Carries the version of the thread the page showed, to detect a concurrent change."""

    version = HiddenField()

    @property
    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class StatusForm(VersionedForm):
    status = SelectField("Nouveau statut", choices=[], validators=[DataRequired("Choisissez un statut.")])
    decline_reason = SelectField(
        "Motif du refus (pour « Refusé »)",
        choices=[("", "Choisissez un motif")] + [(r.value, r.label) for r in DeclineReason],
        validators=[Optional()],
    )
    duplicate_of = StringField(
        "Fil d'origine (pour « Doublon »)",
        description="Son numéro ou son adresse, par exemple 128 ou /threads/128.",
        validators=[Optional(), Length(max=300)],
    )
    resolution_dataset = StringField(
        "Jeu de données qui répond (pour « Résolu », facultatif)",
        description="Le titre, l'identifiant ou l'adresse du jeu de données publié.",
        validators=[Optional(), Length(max=2000)],
    )
    motive = TextAreaField(
        "Message au demandeur",
        description="Obligatoire pour un refus, ou pour retirer le fil de quelqu'un d'autre : il explique le motif. "
        "Facultatif sinon : un mot au demandeur sur ce changement.",
        validators=[Optional(), Length(max=MAX_BODY_LENGTH, message=BODY_TOO_LONG)],
        render_kw={"rows": 4},
    )


class AskDetailsForm(VersionedForm):
    question = _body("Votre question au demandeur", "Ce qu'il faut préciser pour pouvoir répondre.")


class TransferForm(VersionedForm):
    organisation = SelectField("Service destinataire", choices=[], validators=[DataRequired("Choisissez un service.")])
    message = _body("Message au demandeur", "Pourquoi ce service est le bon interlocuteur.")


class ExtendForm(VersionedForm):
    motive = _body("Motif de la prolongation", "Volume ou complexité de la demande : ce motif est envoyé au demandeur.")


class AssignForm(VersionedForm):
    assignee = SelectField("Membre du service", choices=[], validators=[Optional()])


class ReclassifyForm(VersionedForm):
    kind = SelectField("Type", choices=[(k.value, k.label) for k in ThreadKind])
    quality_category = SelectField(
        "Nature du problème (signalement qualité)",
        choices=[("", "—")] + [(c.code, c.label) for c in QUALITY_CATEGORIES],
        validators=[Optional()],
    )


class WithdrawForm(VersionedForm):
    motive = TextAreaField(
        "Motif du retrait",
        description="Obligatoire quand on retire le fil de quelqu'un d'autre : il est publié sur le fil et envoyé à "
        "son auteur.",
        validators=[Optional(), Length(max=MAX_BODY_LENGTH, message=BODY_TOO_LONG)],
        render_kw={"rows": 3},
    )


class ActionForm(VersionedForm):
    """Vote, follow, withdraw, reopen: the CSRF token and the version only."""


class RouteForm(Form):
    thread_id = IntegerField(validators=[DataRequired()])
    organisation = SelectField("Service", choices=[], validators=[DataRequired("Choisissez un service.")])
