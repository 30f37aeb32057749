"""`flask users …`: creating accounts and attaching them to organisations from the command line."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from feedback.accounts.models import Membership, Role, User

from .. import factories


def stored_user(db, email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalars(sa.select(User).where(User.email == email)).first()


def stored_memberships(db) -> list[tuple[str, str, str]]:
    """(address, organisation slug, role) of every membership."""
    db.session.expire_all()
    return [
        (m.user.email, m.organisation.slug, m.role)
        for m in db.session.scalars(sa.select(Membership).order_by(Membership.id))
    ]


def users_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(User.id)))


# --- users create ----------------------------------------------------------------------------------------


def test_create_reads_the_password_on_stdin(db, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Claude.Curateur@Exemple.fr",
            "--name",
            "Claude Curateur",
            "--role",
            "curator",
            "--password-stdin",
        ],
        input="un-mot-de-passe-solide\n",
    )

    assert result.exit_code == 0, result.output
    assert "Compte créé : claude.curateur@exemple.fr (Administrateur des données)" in result.output
    assert "Mot de passe" not in result.output
    user = stored_user(db, "claude.curateur@exemple.fr")
    assert user is not None
    assert user.name == "Claude Curateur"
    assert user.role == Role.CURATOR
    assert user.is_curator
    assert user.confirmed
    assert user.check_password("un-mot-de-passe-solide")


def test_create_without_password_stdin_prints_a_generated_password(db, runner):
    result = runner.invoke(args=["users", "create", "--email", "camille@exemple.fr", "--name", "Camille Martin"])

    assert result.exit_code == 0, result.output
    assert "Compte créé : camille@exemple.fr (Usager)" in result.output
    found = re.search(r"^Mot de passe : (\S+)$", result.output, re.M)
    assert found, result.output
    password = found.group(1)
    assert len(password) >= 12
    user = stored_user(db, "camille@exemple.fr")
    assert user.role == Role.USER
    assert user.check_password(password)


def test_generated_passwords_differ(db, runner):
    outputs = [
        runner.invoke(args=["users", "create", "--email", f"personne{n}@exemple.fr", "--name", "P"]).output
        for n in (1, 2)
    ]

    passwords = [re.search(r"Mot de passe : (\S+)", output).group(1) for output in outputs]
    assert passwords[0] != passwords[1]


@pytest.mark.parametrize("email", ["camille@exemple.fr", "CAMILLE@exemple.fr"])
def test_create_refuses_an_address_already_taken(db, runner, email):
    factories.create_user(email="camille@exemple.fr", name="Première Personne")

    result = runner.invoke(
        args=["users", "create", "--email", email, "--name", "Seconde Personne", "--password-stdin"],
        input="un-mot-de-passe-solide\n",
    )

    assert result.exit_code != 0
    assert "Un compte existe déjà avec cette adresse électronique." in result.output
    assert users_count(db) == 1
    assert stored_user(db, "camille@exemple.fr").name == "Première Personne"


def test_create_refuses_a_short_password(db, runner):
    result = runner.invoke(
        args=["users", "create", "--email", "camille@exemple.fr", "--name", "Camille", "--password-stdin"],
        input="court\n",
    )

    assert result.exit_code != 0
    assert "Le mot de passe doit compter au moins 12 caractères." in result.output
    assert users_count(db) == 0


def test_create_refuses_an_unknown_organisation(db, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "camille@exemple.fr",
            "--name",
            "Camille",
            "--organisation",
            "ddt-nulle-part",
        ],
    )

    assert result.exit_code != 0
    assert "Organisation introuvable : ddt-nulle-part" in result.output
    assert users_count(db) == 0


def test_create_refuses_an_unknown_role(db, runner):
    result = runner.invoke(args=["users", "create", "--email", "camille@exemple.fr", "--name", "C", "--role", "chef"])

    assert result.exit_code != 0
    assert users_count(db) == 0


@pytest.mark.parametrize(("flags", "role"), [([], "member"), (["--coordinator"], "coordinator")])
def test_create_can_attach_the_account_to_an_organisation(db, runner, flags, role):
    organisation = factories.create_organisation(name="DDT du Loiret")

    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "camille@exemple.fr",
            "--name",
            "Camille",
            "--organisation",
            "ddt-du-loiret",
        ]
        + flags,
    )

    assert result.exit_code == 0, result.output
    assert "Compte créé : camille@exemple.fr (Usager), membre de DDT du Loiret" in result.output
    assert stored_memberships(db) == [("camille@exemple.fr", organisation.slug, role)]


# --- users add-member ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["slug", "datagouv_id"])
def test_add_member_finds_the_organisation_by_slug_or_datagouv_id(db, runner, key):
    organisation = factories.create_organisation(name="DDT de la Nièvre", datagouv_id="58aeed0f88ee381f26e6e756")
    factories.create_user(email="camille@exemple.fr")

    result = runner.invoke(args=["users", "add-member", "Camille@Exemple.fr", getattr(organisation, key)])

    assert result.exit_code == 0, result.output
    assert "camille@exemple.fr est membre de DDT de la Nièvre." in result.output
    assert stored_memberships(db) == [("camille@exemple.fr", "ddt-de-la-nievre", "member")]


def test_add_member_as_coordinator(db, runner):
    organisation = factories.create_organisation(name="DDT de la Nièvre")
    factories.create_user(email="camille@exemple.fr")

    result = runner.invoke(args=["users", "add-member", "camille@exemple.fr", organisation.slug, "--coordinator"])

    assert result.exit_code == 0, result.output
    assert "camille@exemple.fr est coordinateur de DDT de la Nièvre." in result.output
    assert stored_memberships(db) == [("camille@exemple.fr", organisation.slug, "coordinator")]


def test_add_member_twice_changes_the_role_without_a_second_membership(db, runner):
    organisation = factories.create_organisation(name="DDT de la Nièvre")
    factories.create_user(email="camille@exemple.fr", organisation=organisation, coordinator=True)

    result = runner.invoke(args=["users", "add-member", "camille@exemple.fr", organisation.slug])

    assert result.exit_code == 0, result.output
    assert stored_memberships(db) == [("camille@exemple.fr", organisation.slug, "member")]


def test_add_member_with_an_unknown_address_fails(db, runner):
    organisation = factories.create_organisation()

    result = runner.invoke(args=["users", "add-member", "inconnu@exemple.fr", organisation.slug])

    assert result.exit_code != 0
    assert "Aucun compte avec l'adresse inconnu@exemple.fr" in result.output
    assert stored_memberships(db) == []


def test_add_member_with_an_unknown_organisation_fails(db, runner):
    factories.create_user(email="camille@exemple.fr")

    result = runner.invoke(args=["users", "add-member", "camille@exemple.fr", "ddt-nulle-part"])

    assert result.exit_code != 0
    assert "Organisation introuvable : ddt-nulle-part" in result.output
    assert stored_memberships(db) == []
