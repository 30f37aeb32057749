"""The base form: CSRF from Flask-WTF, messages of the built-in validators in French."""

from flask_wtf import FlaskForm


class Form(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")
