"""The threads a report is about: a period, kinds, producers, themes, territories, use cases.

A thread is in a scope when it was received (`created_at`) within the period, counted in days of Paris
where the services work, and matches every other criterion given. A thread is about the themes and the
territories given to it and about those of its dataset; a theme includes its sub-themes, a région its
départements (and a country its régions). Restricted data requests are left out unless the scope says
`include_restricted`: a figure that may be published must never count them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from feedback.catalogue.models import Territory, Theme, dataset_territory, dataset_theme
from feedback.clock import paris_day_start
from feedback.extensions import db
from feedback.threads.models import Thread, thread_theme
from feedback.threads.workflow import visible_threads

# Territories hold at most a country, régions, départements and communes: three levels below a code.
TERRITORY_DEPTH = 3


@dataclass(frozen=True)
class Scope:
    date_from: date | None = None  # received on or after this day (Paris)
    date_to: date | None = None  # received on or before this day (Paris)
    kinds: tuple[str, ...] = ()
    producer_ids: tuple[int, ...] = ()
    theme_codes: tuple[str, ...] = ()  # INSPIRE (`hy`) or Ecosphères (`eau`) codes
    territory_codes: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    include_restricted: bool = False
    # Filled by `condition()`: the territory and theme codes expanded once, not at every query.
    _expanded: dict = field(default_factory=dict, init=False, compare=False, repr=False, hash=False)

    def to_json(self) -> dict:
        """The criteria as plain JSON values, as a report keeps them (producers by id)."""
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "kinds": list(self.kinds),
            "producer_ids": list(self.producer_ids),
            "themes": list(self.theme_codes),
            "territories": list(self.territory_codes),
            "use_cases": list(self.use_cases),
            "include_restricted": self.include_restricted,
        }

    @classmethod
    def from_json(cls, value: dict | None) -> Scope:
        """The scope `to_json` wrote; a missing key is no criterion."""
        value = value or {}
        return cls(
            date_from=date.fromisoformat(value["from"]) if value.get("from") else None,
            date_to=date.fromisoformat(value["to"]) if value.get("to") else None,
            kinds=tuple(value.get("kinds") or ()),
            producer_ids=tuple(int(i) for i in value.get("producer_ids") or ()),
            theme_codes=tuple(value.get("themes") or ()),
            territory_codes=tuple(value.get("territories") or ()),
            use_cases=tuple(value.get("use_cases") or ()),
            include_restricted=bool(value.get("include_restricted", False)),
        )

    @property
    def start(self) -> datetime | None:
        return paris_day_start(self.date_from) if self.date_from else None

    @property
    def end(self) -> datetime | None:
        """The first instant after the period (exclusive bound)."""
        return paris_day_start(self.date_to + timedelta(days=1)) if self.date_to else None

    def previous(self) -> Scope | None:
        """The period of the same length just before this one, with the same other criteria; None when the
        period is open at either end."""
        if self.date_from is None or self.date_to is None:
            return None
        length = (self.date_to - self.date_from).days + 1
        previous_to = self.date_from - timedelta(days=1)
        return replace(self, date_from=previous_to - timedelta(days=length - 1), date_to=previous_to)

    def condition(self):
        """The SQL condition on `Thread` that this scope means."""
        conditions = [Thread.hidden_at.is_(None)]  # what the moderation hid counts nowhere
        if not self.include_restricted:  # the public figures: what anyone may see
            conditions.append(visible_threads(None))
        if self.start is not None:
            conditions.append(Thread.created_at >= self.start)
        if self.end is not None:
            conditions.append(Thread.created_at < self.end)
        if self.kinds:
            conditions.append(Thread.kind.in_(self.kinds))
        if self.producer_ids:
            conditions.append(Thread.organisation_id.in_(self.producer_ids))
        if self.use_cases:
            conditions.append(Thread.use_case.in_(self.use_cases))
        if self.theme_codes:
            theme_ids = self._theme_ids()
            conditions.append(
                sa.or_(
                    sa.exists().where(thread_theme.c.thread_id == Thread.id, thread_theme.c.theme_id.in_(theme_ids)),
                    sa.exists().where(
                        dataset_theme.c.dataset_id == Thread.dataset_id, dataset_theme.c.theme_id.in_(theme_ids)
                    ),
                )
            )
        if self.territory_codes:
            codes = self._territory_codes()
            conditions.append(
                sa.or_(
                    Thread.territory_code.in_(codes),
                    sa.exists().where(
                        dataset_territory.c.dataset_id == Thread.dataset_id,
                        dataset_territory.c.territory_code.in_(codes),
                    ),
                )
            )
        return sa.and_(sa.true(), *conditions)

    def _territory_codes(self) -> list[str]:
        """The territory codes asked for and every territory inside them (a région's départements…)."""
        if "territories" not in self._expanded:
            codes = set(self.territory_codes)
            level = set(codes)
            for _ in range(TERRITORY_DEPTH):
                level = set(db.session.scalars(sa.select(Territory.code).where(Territory.parent_code.in_(level))))
                if not level:
                    break
                codes |= level
            self._expanded["territories"] = sorted(codes)
        return self._expanded["territories"]

    def _theme_ids(self) -> list[int]:
        """The themes of the codes asked for (in either scheme) and their sub-themes."""
        if "themes" not in self._expanded:
            ids = set(db.session.scalars(sa.select(Theme.id).where(Theme.code.in_(self.theme_codes))))
            children = set(db.session.scalars(sa.select(Theme.id).where(Theme.parent_id.in_(ids)))) if ids else set()
            self._expanded["themes"] = sorted(ids | children)
        return self._expanded["themes"]
