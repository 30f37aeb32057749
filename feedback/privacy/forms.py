from __future__ import annotations

from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired

from feedback.forms import Form


class DeleteAccountForm(Form):
    password = PasswordField(
        "Mot de passe actuel",
        validators=[DataRequired("Saisissez votre mot de passe pour confirmer.")],
        render_kw={"autocomplete": "current-password"},
    )
    understood = BooleanField(
        "J'ai compris que la suppression est définitive",
        validators=[DataRequired("Cochez cette case pour confirmer la suppression.")],
    )
