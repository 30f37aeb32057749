from __future__ import annotations

import re

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from feedback.accounts.models import EMPLOYER_KIND_LABELS, MembershipRole
from feedback.accounts.services import MIN_PASSWORD_LENGTH
from feedback.forms import Form

REQUIRED = "Ce champ est obligatoire."
EMAIL_INVALID = "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control_characters(form, field) -> None:
    """Names are shown everywhere and stored as text: no NUL byte nor other control character."""
    if field.data and _CONTROL_CHARACTERS.search(field.data):
        raise ValidationError("Ce champ contient un caractère non autorisé (caractère de contrôle).")


def new_password_field(label: str) -> PasswordField:
    """The rules of a new password, the same at sign-up and on a password reset."""
    return PasswordField(
        label,
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


def password_confirmation_field(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(REQUIRED), EqualTo("password", "Les deux mots de passe ne sont pas identiques.")],
        render_kw={"autocomplete": "new-password"},
    )


def name_field() -> StringField:
    return StringField(
        "Prénom et nom",
        validators=[DataRequired(REQUIRED), Length(max=120, message="120 caractères au plus."), no_control_characters],
        render_kw={"autocomplete": "name"},
    )


def employer_name_field(description: str = "") -> StringField:
    return StringField(
        "Nom de votre organisation",
        description=description,
        validators=[DataRequired(REQUIRED), Length(max=200, message="200 caractères au plus."), no_control_characters],
        render_kw={"autocomplete": "organization"},
    )


class SignupForm(Form):
    name = name_field()
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
    employer_name = employer_name_field(
        description="Par exemple : Bureau d'études Hydro-Conseil, Communauté de communes du Val de Loire"
    )
    password = new_password_field("Mot de passe")
    password_confirm = password_confirmation_field("Confirmez le mot de passe")


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


class PasswordResetRequestForm(Form):
    email = EmailField(
        "Adresse électronique",
        description="L'adresse de votre compte. Format attendu : nom@domaine.fr",
        validators=[DataRequired(REQUIRED), Email(EMAIL_INVALID, check_deliverability=False), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class NewPasswordForm(Form):
    password = new_password_field("Nouveau mot de passe")
    password_confirm = password_confirmation_field("Confirmez le nouveau mot de passe")


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


def current_password_field() -> PasswordField:
    return PasswordField(
        "Mot de passe actuel",
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordChangeForm(Form):
    current_password = current_password_field()
    password = new_password_field("Nouveau mot de passe")
    password_confirm = password_confirmation_field("Confirmez le nouveau mot de passe")


class ProfileForm(Form):
    name = name_field()
    employer_kind = SelectField(
        "Vous travaillez pour",
        choices=[(k.value, label) for k, label in EMPLOYER_KIND_LABELS.items()],
        validators=[DataRequired("Choisissez le type de votre organisation.")],
    )
    employer_name = employer_name_field()


class EmailChangeForm(Form):
    email = EmailField(
        "Nouvelle adresse électronique",
        description="Un lien de confirmation y sera envoyé ; l'adresse change quand vous l'ouvrez. "
        "Format attendu : nom@domaine.fr",
        validators=[DataRequired(REQUIRED), Email(EMAIL_INVALID, check_deliverability=False), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    email_password = PasswordField(
        "Mot de passe actuel",
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class ConfirmActionForm(Form):
    """Only the CSRF token: a button that does one thing (log out everywhere, end one session)."""
