from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from feedback.forms import Form
from feedback.moderation.models import ReportReason
from feedback.moderation.services import MAX_COMMENT_LENGTH, MAX_MOTIVE_LENGTH


class ReportForm(Form):
    reason = SelectField(
        "Motif du signalement",
        choices=[("", "Choisissez un motif"), *((reason.value, reason.label) for reason in ReportReason)],
        validators=[DataRequired(message="Choisissez le motif du signalement.")],
    )
    comment = TextAreaField(
        "Commentaire",
        description="Facultatif : ce qui pose problème, pour les administrateurs des données.",
        validators=[Optional(), Length(max=MAX_COMMENT_LENGTH)],
        render_kw={"rows": 4},
    )


class MotiveForm(Form):
    motive = TextAreaField(
        "Motif",
        description="Reste dans l'historique interne du fil, visible du service et des administrateurs des données.",
        validators=[DataRequired(message="Indiquez le motif."), Length(max=MAX_MOTIVE_LENGTH)],
        render_kw={"rows": 2},
    )


class ConfirmForm(Form):
    """A button only: restore, dismiss, suspend, reactivate (the CSRF token is the form)."""
