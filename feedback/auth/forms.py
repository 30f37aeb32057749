from __future__ import annotations

from wtforms import StringField
from wtforms.validators import Length, Optional

from feedback.forms import Form


class ButtonForm(Form):
    """Only the CSRF token: a button that does one thing (ask to join a service, accept or refuse a request)."""


class SiretForm(Form):
    siret = StringField(
        "SIRET du service",
        description="14 chiffres, par exemple 130 025 265 00013. Laisser vide pour l'effacer.",
        validators=[Optional(), Length(max=20, message="Le SIRET compte 14 chiffres.")],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
