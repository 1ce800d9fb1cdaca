"""Managers invite people by email; an invitation is accepted by its own verified address,
once, within a week. Staff neither invite nor see billing; managers do."""
import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from partners.models import Invitation, Membership
from partners.services import InvitationRefused, invitation_accept
from tests.factories import client_for, user_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(manager_a, django_capture_on_commit_callbacks):
    def send(email="new@haneul.example", role="staff") -> str:
        """The manager invites ``email`` from the team page; the token of the link in the email."""
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(manager_a).post(reverse("partners:team"), {"email": email, "role": role})
        assert response.status_code == 302
        return re.search(r"/partners/invitations/([\w-]+)/", mail.outbox[-1].body).group(1)

    return send


def verified_user(email):
    person = user_make(email)
    EmailAddress.objects.create(user=person, email=email, verified=True, primary=True)
    return person


def test_a_manager_invites_by_email_and_the_invited_person_joins(invite, mailoutbox):
    token = invite(role="manager")
    assert mailoutbox[0].to == ["new@haneul.example"] and "Haneul Funeral Services" in mailoutbox[0].subject
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash and invitation.expires_at > timezone.now() + datetime.timedelta(days=6)
    newcomer = verified_user("new@haneul.example")
    client = client_for(newcomer)
    assert "Join Haneul Funeral Services" in client.get(reverse("partners:invitation", args=[token])).content.decode()
    assert client.post(reverse("partners:invitation", args=[token])).status_code == 302
    assert Membership.objects.get(user=newcomer).role == "manager"
    # accepting again changes nothing
    assert client.post(reverse("partners:invitation", args=[token])).status_code == 302
    assert Membership.objects.filter(user=newcomer).count() == 1


def test_an_invitation_is_only_for_its_own_verified_address(invite):
    token = invite()
    with pytest.raises(InvitationRefused, match="This invitation is for new@haneul.example"):
        invitation_accept(token=token, user=verified_user("someone.else@example.com"))
    unverified = user_make("new@haneul.example")
    EmailAddress.objects.create(user=unverified, email="new@haneul.example", verified=False, primary=True)
    response = client_for(unverified).post(reverse("partners:invitation", args=[token]))
    assert response.status_code == 410 and "verify it" in response.content.decode()
    assert not Membership.objects.filter(user=unverified).exists()


def test_a_used_or_expired_or_unknown_invitation_says_so(invite, manager_a):
    used, expired = invite("a@example.com"), invite("b@example.com")
    Invitation.objects.filter(email="b@example.com").update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    invitation_accept(token=used, user=verified_user("a@example.com"))
    with pytest.raises(InvitationRefused, match="already been used"):
        invitation_accept(token=used, user=verified_user("c@example.com"))
    with pytest.raises(InvitationRefused, match="expired"):
        invitation_accept(token=expired, user=verified_user("b@example.com"))
    page = client_for(manager_a).get(reverse("partners:invitation", args=["no-such-token"]))
    assert page.status_code == 410 and "not valid" in page.content.decode()


def test_staff_can_neither_invite_nor_see_billing_and_managers_can(staff_a, manager_a):
    staff = client_for(staff_a)
    assert staff.get(reverse("partners:team")).status_code == 404
    assert staff.post(reverse("partners:team"), {"email": "x@example.com", "role": "manager"}).status_code == 404
    assert staff.get(reverse("partners:billing")).status_code == 404
    assert not Invitation.objects.exists()
    assert "Usage and billing" not in staff.get(reverse("partners:cases")).content.decode()
    manager = client_for(manager_a)
    assert manager.get(reverse("partners:team")).status_code == 200
    assert manager.get(reverse("partners:billing")).status_code == 200
