"""An agent whose ProConnect SIRET is a producer service's asks to join it in one click; a coordinator of the
service or a curator accepts (membership) or refuses, from the organisation's page or the notification."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from feedback.accounts.models import Membership, MembershipRole, Role, User
from feedback.auth.models import JoinRequest, JoinRequestStatus
from feedback.mail.models import OutgoingMail
from feedback.notifications.mails import queue_notification_mails
from feedback.notifications.models import Notification, NotificationKind
from tests import factories

from .conftest import ACCOUNTS, DDT_SIRET


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def service(db):
    organisation = factories.create_organisation(name="DDT du Loiret")
    organisation.siret = DDT_SIRET
    db.session.commit()
    return organisation


@pytest.fixture
def coordinator(service):
    return factories.create_user(email="coordination@loiret.gouv.fr", organisation=service, coordinator=True)


def agent(db) -> User:
    return db.session.scalars(sa.select(User).where(User.email == ACCOUNTS["agent-nouveau"]["email"])).one()


def notifications_of(db, user) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.recipient_id == user.id)))


def test_the_sign_in_offers_to_join_the_service_of_the_siret(client, db, service, coordinator, sign_in_with):
    response = sign_in_with("agent-nouveau", next="/fils")
    assert response.status_code == 303
    assert response.headers["Location"] == "/proconnect/rejoindre?next=/fils"

    page = text(client.get(response.headers["Location"]))
    assert "D'après votre compte ProConnect, vous travaillez à <strong>DDT du Loiret</strong>" in page
    assert "Demander à rejoindre DDT du Loiret" in page

    response = client.post("/proconnect/rejoindre?next=/fils")
    assert response.status_code == 303 and response.headers["Location"] == "/fils"
    (join_request,) = db.session.scalars(sa.select(JoinRequest)).all()
    assert (join_request.user_id, join_request.organisation_id) == (agent(db).id, service.id)
    assert join_request.status == JoinRequestStatus.PENDING and join_request.siret == DDT_SIRET
    (notification,) = notifications_of(db, coordinator)
    assert notification.kind == NotificationKind.JOIN_REQUEST
    assert notification.link == f"/organisations/{service.slug}#demandes-de-rattachement"
    assert "Camille Martin" in notification.text and "DDT du Loiret" in notification.text
    # Asked once: no second offer.
    assert client.get("/proconnect/rejoindre").status_code == 404


def test_without_coordinator_the_curators_are_told(client, db, service, sign_in_with):
    curator = factories.create_user(role=Role.CURATOR)
    sign_in_with("agent-nouveau")
    client.post("/proconnect/rejoindre")
    assert [n.kind for n in notifications_of(db, curator)] == [NotificationKind.JOIN_REQUEST]


def test_no_offer_without_a_matching_producer(client, db, service, sign_in_with):
    response = sign_in_with("agent-existant")  # a SIRET the platform does not know
    assert response.headers["Location"] == "/"
    assert client.get("/proconnect/rejoindre").status_code == 404
    assert client.post("/proconnect/rejoindre").status_code == 404


def test_no_offer_to_a_member(client, db, service, sign_in_with):
    factories.create_user(email=ACCOUNTS["agent-nouveau"]["email"], organisation=service)
    assert sign_in_with("agent-nouveau").headers["Location"] == "/"


def _requested(client, db, sign_in_with) -> JoinRequest:
    sign_in_with("agent-nouveau")
    client.post("/proconnect/rejoindre")
    client.post("/deconnexion")
    return db.session.scalars(sa.select(JoinRequest)).one()


def test_the_coordinator_accepts_from_the_organisation_page(client, db, service, coordinator, sign_in_with, login):
    join_request = _requested(client, db, sign_in_with)
    login(coordinator)

    page = text(client.get(f"/organisations/{service.slug}"))
    assert "Demandes pour rejoindre le service (1)" in page
    assert "Camille Martin" in page and "Accepter" in page
    response = client.post(f"/organisations/{service.slug}/demandes-de-rattachement/{join_request.id}/acceptation")

    assert response.status_code == 303
    db.session.refresh(join_request)
    assert join_request.status == JoinRequestStatus.ACCEPTED and join_request.decided_by_id == coordinator.id
    membership = db.session.scalars(sa.select(Membership).where(Membership.user_id == agent(db).id)).one()
    assert (membership.organisation_id, membership.role) == (service.id, MembershipRole.MEMBER)
    assert "Camille Martin est maintenant membre de DDT du Loiret" in text(client.get(f"/organisations/{service.slug}"))
    (told,) = notifications_of(db, agent(db))
    assert "a été acceptée" in told.text
    # Decided once only.
    client.post(f"/organisations/{service.slug}/demandes-de-rattachement/{join_request.id}/refus")
    db.session.refresh(join_request)
    assert join_request.status == JoinRequestStatus.ACCEPTED


def test_a_curator_refuses(client, db, service, sign_in_with, login):
    join_request = _requested(client, db, sign_in_with)
    login(factories.create_user(role=Role.CURATOR))

    response = client.post(f"/organisations/{service.slug}/demandes-de-rattachement/{join_request.id}/refus")

    assert response.status_code == 303
    db.session.refresh(join_request)
    assert join_request.status == JoinRequestStatus.REFUSED
    assert db.session.scalars(sa.select(Membership)).all() == []
    assert "a été refusée" in notifications_of(db, agent(db))[0].text


def test_others_cannot_decide_nor_see_the_requests(client, db, service, coordinator, sign_in_with, login):
    join_request = _requested(client, db, sign_in_with)
    plain_member = factories.create_user(organisation=service)
    other_coordinator = factories.create_user(organisation=factories.create_organisation(), coordinator=True)
    url = f"/organisations/{service.slug}/demandes-de-rattachement/{join_request.id}/acceptation"

    assert client.post(url).status_code == 302  # to the log-in page
    for person in (plain_member, other_coordinator):
        login(person)
        assert "Demandes pour rejoindre" not in text(client.get(f"/organisations/{service.slug}"))
        assert client.post(url).status_code == 403
        client.post("/deconnexion")
    db.session.refresh(join_request)
    assert join_request.status == JoinRequestStatus.PENDING


def test_a_request_of_another_service_is_not_found(client, db, service, coordinator, sign_in_with, login):
    join_request = _requested(client, db, sign_in_with)
    other = factories.create_organisation()
    login(factories.create_user(role=Role.CURATOR))
    url = f"/organisations/{other.slug}/demandes-de-rattachement/{join_request.id}/refus"
    assert client.post(url).status_code == 404


def test_the_request_and_its_answer_go_out_by_mail(client, db, service, coordinator, sign_in_with, login):
    join_request = _requested(client, db, sign_in_with)
    login(coordinator)
    client.post(f"/organisations/{service.slug}/demandes-de-rattachement/{join_request.id}/acceptation")

    assert queue_notification_mails().queued == 2
    mails = {mail.to_address: mail for mail in db.session.scalars(sa.select(OutgoingMail))}
    to_coordinator = mails[coordinator.email]
    assert "demande à rejoindre DDT du Loiret" in to_coordinator.subject
    assert f"/organisations/{service.slug}#demandes-de-rattachement" in to_coordinator.text_body
    assert "vous coordonnez le service concerné" in to_coordinator.text_body
    assert "a été acceptée" in mails[ACCOUNTS["agent-nouveau"]["email"]].subject
