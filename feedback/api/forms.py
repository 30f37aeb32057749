from wtforms import StringField
from wtforms.validators import DataRequired, Length

from feedback.api.tokens import MAX_NAME_LENGTH
from feedback.forms import Form


class NewTokenForm(Form):
    name = StringField(
        "Nom du jeton",
        description="Pour le reconnaître : le script ou l'outil qui l'utilise, par exemple « Tableau de bord DDT ».",
        validators=[
            DataRequired("Donnez un nom à ce jeton."),
            Length(max=MAX_NAME_LENGTH, message=f"{MAX_NAME_LENGTH} caractères au plus."),
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME_LENGTH},
    )


class RevokeTokenForm(Form):
    """The CSRF token only."""
