"""The preferences form: one choice of frequency per topic."""

from __future__ import annotations

from collections.abc import Mapping

from wtforms import SelectField

from feedback.forms import Form
from feedback.notifications.models import Frequency
from feedback.notifications.preferences import HINTS, TOPICS, allowed_frequencies


class PreferencesForm(Form):
    """Its fields are the topics, added by `preferences_form` (the list of topics lives in `preferences`)."""

    def choices(self) -> dict[str, Frequency]:
        return {topic: Frequency(self[topic].data) for topic in TOPICS}


def preferences_form(current: Mapping[str, Frequency]) -> PreferencesForm:
    """The form, showing `current` (each topic's frequency) until the person changes it; a topic left out of a
    post keeps its frequency."""

    class Form(PreferencesForm):
        pass

    for topic, label in TOPICS.items():
        field = SelectField(
            label,
            choices=[(frequency.value, frequency.label) for frequency in allowed_frequencies(topic)],
            default=current[topic].value,
            description=HINTS.get(topic, ""),
        )
        setattr(Form, topic, field)
    return Form()
