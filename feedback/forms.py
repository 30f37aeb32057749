"""The base form: CSRF from Flask-WTF, messages of the built-in validators in French."""

from flask_wtf import FlaskForm

from feedback.input_limits import field_errors


class Form(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")

    def validate(self, extra_validators=None) -> bool:
        """The fields' own checks, then the platform's bounds on every field (no number beyond an id column),
        with their message next to the field."""
        valid = super().validate(extra_validators)
        for field in self:
            errors = field_errors(field)
            if errors:
                field.errors = [*field.errors, *errors]
                valid = False
        return valid
