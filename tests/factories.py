"""Build the rows a test needs, through the same code paths as the application where one exists."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from feedback.accounts import services as accounts
from feedback.accounts.models import EmployerKind, MembershipRole, Organisation, OrganisationKind, Role, User
from feedback.catalogue.models import DATASET_SEARCH, Dataset, Territory, Theme, ThemeScheme
from feedback.catalogue.services import dataset_search_text
from feedback.extensions import db
from feedback.search import normalise

PASSWORD = "mot-de-passe-solide-2026"
_numbers = itertools.count(1)


def create_user(
    *,
    email: str | None = None,
    name: str = "Camille Martin",
    role: Role = Role.USER,
    password: str = PASSWORD,
    organisation: Organisation | None = None,
    coordinator: bool = False,
    active: bool = True,
) -> User:
    number = next(_numbers)
    user = accounts.create_user(
        email=email or f"personne{number}@exemple.fr",
        name=name,
        password=password,
        role=role,
        employer_kind=EmployerKind.CONSULTANCY,
        employer_name="Bureau d'études Exemple",
        confirmed=True,
    )
    user.active = active
    if organisation is not None:
        accounts.add_member(user, organisation, MembershipRole.COORDINATOR if coordinator else MembershipRole.MEMBER)
    db.session.commit()
    return user


def create_organisation(
    *,
    name: str | None = None,
    kind: OrganisationKind = OrganisationKind.DDT,
    territory_code: str | None = "D45",
    is_producer: bool = True,
    datagouv_id: str | None = None,
) -> Organisation:
    number = next(_numbers)
    name = name or f"DDT Exemple {number}"
    organisation = Organisation(
        name=name,
        slug=accounts.unique_organisation_slug(name),
        kind=kind.value,
        territory_code=territory_code,
        is_producer=is_producer,
        datagouv_id=datagouv_id or f"{number:024x}",
    )
    db.session.add(organisation)
    db.session.commit()
    return organisation


def create_dataset(
    *,
    title: str = "Zones inondables du Loiret",
    organisation: Organisation | None = None,
    description: str = "Atlas des zones inondables.",
    tags: list[str] | None = None,
    slug: str | None = None,
    catalogue_id: str | None = None,
    geoide_record_id: str | None = None,
    inspire_themes: list[str] | None = None,
    territories: list[str] | None = None,
    modified_at: datetime | None = None,
    archived: bool = False,
) -> Dataset:
    number = next(_numbers)
    tags = tags or []
    dataset = Dataset(
        catalogue_id=catalogue_id or f"{0xABC000000000000000000000 + number:024x}",
        slug=slug or f"jeu-{number}",
        title=title,
        search_title=normalise(title),
        description=description,
        organisation_id=organisation.id if organisation else None,
        geoide_record_id=geoide_record_id,
        tags=tags,
        zones=[],
        modified_at=modified_at or datetime(2025, 1, 1, tzinfo=UTC),
        archived_at=datetime(2025, 6, 1, tzinfo=UTC) if archived else None,
        archived=archived,
        search_text=dataset_search_text(title, None, organisation.name if organisation else None, tags, description),
        content_hash="test",
    )
    if inspire_themes:
        dataset.themes = list(
            db.session.scalars(
                db.select(Theme).where(Theme.scheme == ThemeScheme.INSPIRE, Theme.code.in_(inspire_themes))
            )
        )
    if territories:
        dataset.territories = list(db.session.scalars(db.select(Territory).where(Territory.code.in_(territories))))
    db.session.add(dataset)
    db.session.flush()
    DATASET_SEARCH.index(db.session, [dataset.id])
    db.session.commit()
    return dataset
