from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from feedback.accounts.models import EMPLOYER_KIND_LABELS, MembershipRole
from feedback.accounts.services import MIN_PASSWORD_LENGTH
from feedback.forms import Form

REQUIRED = "Ce champ est obligatoire."
EMAIL_INVALID = "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."


class SignupForm(Form):
    name = StringField(
        "Prénom et nom",
        validators=[DataRequired(REQUIRED), Length(max=120, message="120 caractères au plus.")],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        "Adresse électronique",
        description="Format attendu : nom@domaine.fr",
        validators=[DataRequired(REQUIRED), Email(EMAIL_INVALID, check_deliverability=False), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    employer_kind = SelectField(
        "Vous travaillez pour",
        choices=[("", "Choisissez une option")] + [(k.value, label) for k, label in EMPLOYER_KIND_LABELS.items()],
        validators=[DataRequired("Choisissez le type de votre organisation.")],
    )
    employer_name = StringField(
        "Nom de votre organisation",
        description="Par exemple : Bureau d'études Hydro-Conseil, Communauté de communes du Val de Loire",
        validators=[DataRequired(REQUIRED), Length(max=200, message="200 caractères au plus.")],
        render_kw={"autocomplete": "organization"},
    )
    password = PasswordField(
        "Mot de passe",
        description=f"{MIN_PASSWORD_LENGTH} caractères au moins.",
        validators=[
            DataRequired(REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.",
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        "Confirmez le mot de passe",
        validators=[DataRequired(REQUIRED), EqualTo("password", "Les deux mots de passe ne sont pas identiques.")],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(Form):
    email = EmailField(
        "Adresse électronique",
        validators=[DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        "Mot de passe",
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Rester connecté sur cet appareil")


class AddMemberForm(Form):
    email = EmailField(
        "Adresse électronique de la personne",
        description="La personne doit déjà avoir un compte sur la plateforme.",
        validators=[DataRequired(REQUIRED), Email(EMAIL_INVALID, check_deliverability=False), Length(max=254)],
    )
    role = SelectField(
        "Rôle",
        choices=[(r.value, r.label) for r in MembershipRole],
        default=MembershipRole.MEMBER.value,
    )


class RemoveMemberForm(Form):
    """Only the CSRF token: the membership is in the URL."""
