"""English and Korean: pages follow the browser until the visitor picks a language, money and
dates are written the way each language writes them, emails go out in the recipient's language,
and the committed Korean catalog is complete and compiled."""
import ast
import gettext
import html
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from generation.services import GENERIC_FAILURE, job_fail
from shop.models import FrameVariant
from shop.money import format_money
from shop.services.orders import order_payment_sync
from studio.services import creation_set_shared
from tests.conftest import CAT_PHOTO, SHIPPING, buy, run_job

pytestmark = pytest.mark.django_db
KOREAN = {"HTTP_ACCEPT_LANGUAGE": "ko-KR,ko;q=0.9"}
CATALOG = Path(settings.BASE_DIR) / "locale" / "ko" / "LC_MESSAGES"


@pytest.fixture
def pages(user, make_creation):
    """Where each page is; the public one belongs to a shared creation still being made."""
    creation = make_creation(user)
    creation_set_shared(creation=creation, shared=True)
    return {
        "home": reverse("home"), "upload": reverse("studio:creation-new"), "catalog": reverse("shop:catalog"),
        "cart": reverse("shop:cart"), "premium": reverse("shop:premium"), "share": creation.get_share_url(),
        "frames": reverse("studio:frame-list"), "pairing": reverse("studio:frame-pair"),
    }


def text_of(response) -> str:
    return html.unescape(response.content.decode())


# Each page, with something it says in Korean and the same in English.
SAYINGS = [
    ("home", "반려동물 사진이 살며시 살아나요.", "Your pet's photo, gently alive."),
    ("upload", "내 영상 만들기", "Make my video"),
    ("catalog", "반려동물 영상을 하루 종일 조용히 반복 재생하는 액자예요.", "Frames that play your pet's videos on a loop, all day, silently."),
    ("cart", "장바구니가 비어 있어요.", "Your cart is empty."),
    ("premium", "지금 <strong>무료</strong> 요금제를 이용 중이고, 이번 달에 영상 <strong>4</strong>개를 더 만들 수 있어요.",
     "You are on <strong>Free</strong>, with <strong>4</strong> videos left this month."),
    ("share", "나만의 영상 만들기", "Make your own"),
    ("frames", "아직 연결된 액자가 없어요.", "No frames yet."),
    ("pairing", "액자 화면에 표시된 코드", "The code on the frame's screen"),
]


@pytest.mark.parametrize(("page", "korean", "english"), SAYINGS, ids=[page for page, _, _ in SAYINGS])
def test_a_korean_browser_gets_the_page_in_korean_and_any_other_in_english(owner_client, pages, page, korean, english):
    in_korean = text_of(owner_client.get(pages[page], **KOREAN))
    assert '<html lang="ko">' in in_korean and korean in in_korean and english not in in_korean
    assert "PetMemories — 사랑하는 반려동물의 살아 있는 사진." in in_korean  # the shared layout too
    in_english = text_of(owner_client.get(pages[page], HTTP_ACCEPT_LANGUAGE="fr-FR,en;q=0.5"))
    assert '<html lang="en">' in in_english and english in in_english and korean not in in_english


def test_the_switcher_s_choice_wins_over_the_browser_until_changed(client):
    page = text_of(client.get(reverse("home"), **KOREAN))
    assert '<option value="ko" lang="ko" selected>한국어</option>' in page and '<option value="en" lang="en">English</option>' in page

    switched = client.post(reverse("set_language"), {"language": "en", "next": reverse("shop:catalog")}, **KOREAN)
    assert switched.status_code == 302 and switched.url == reverse("shop:catalog")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = text_of(client.get(reverse("shop:catalog"), **KOREAN))
    assert '<html lang="en">' in page and "Digital frames" in page and "디지털 액자" not in page

    client.post(reverse("set_language"), {"language": "ko", "next": reverse("home")}, HTTP_ACCEPT_LANGUAGE="en")
    assert "반려동물 사진이 살며시 살아나요." in text_of(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en"))


def test_a_signed_in_customer_s_switch_is_remembered_for_their_emails(owner_client, user):
    owner_client.post(reverse("set_language"), {"language": "ko", "next": "/"})
    user.refresh_from_db()
    assert user.language == "ko"
    owner_client.post(reverse("set_language"), {"language": "xx", "next": "/"})  # not a language of ours
    user.refresh_from_db()
    assert user.language == "ko"


def test_signing_up_and_logging_in_remember_the_browser_s_language(client, django_user_model, user):
    client.post(reverse("account_signup"), {"email": "new@example.com", "password1": "purring-tabby-2026", "password2": "purring-tabby-2026"}, **KOREAN)
    assert django_user_model.objects.get(email="new@example.com").language == "ko"
    Client().post(reverse("account_login"), {"login": user.email, "password": "a-long-pass-phrase"}, **KOREAN)
    user.refresh_from_db()
    assert user.language == "ko"


def test_korean_pages_write_won_after_the_number_and_dollars_as_us_dollars(client):
    call_command("load_demo")
    assert "89,000원부터" in text_of(client.get(reverse("shop:catalog"), **KOREAN))
    with translation.override("ko"):
        assert (format_money(Decimal("149000"), "KRW"), format_money(Decimal("119"), "USD")) == ("149,000원", "US$119.00")
    with translation.override("en"):
        assert (format_money(Decimal("149000"), "KRW"), format_money(Decimal("119"), "USD")) == ("₩149,000", "$119.00")


def test_korean_pages_write_dates_the_korean_way(owner_client, user, make_creation):
    creation = make_creation(user)
    made = timezone.localtime(creation.created_at)
    page = text_of(owner_client.get(creation.get_absolute_url(), **KOREAN))
    assert f"{made.year}년 {made.month}월 {made.day}일" in page


def test_a_failure_reason_stored_in_english_is_shown_in_the_visitor_s_language(owner_client, user, make_creation):
    creation = make_creation(user)
    job_fail(job_id=creation.job_id, reason=GENERIC_FAILURE)
    page = text_of(owner_client.get(creation.get_absolute_url(), **KOREAN))
    assert "영상을 만드는 중에 문제가 생겼어요." in page and GENERIC_FAILURE not in page


def test_form_errors_are_in_the_visitor_s_language(owner_client, client):
    with CAT_PHOTO.open("rb") as photo:
        response = owner_client.post(reverse("studio:creation-new"), {"photo": photo, "engine": "living-photo", "aspect_ratio": "1:1", "height": "1080"}, **KOREAN)
    assert response.status_code == 400
    assert "지금 요금제로는 최대 720p 영상을 만들 수 있어요." in text_of(response)

    call_command("load_demo")
    client.post(reverse("shop:cart-add"), {"variant": FrameVariant.objects.get(sku="MINI-8-SNOW").pk, "quantity": 0}, **KOREAN)
    assert "수량은 1에서 99 사이의 정수여야 해요." in text_of(client.get(reverse("shop:cart"), **KOREAN))


def test_a_korean_customer_s_video_ready_email_is_in_korean(user, make_creation, django_capture_on_commit_callbacks):
    user.language = "ko"
    user.save()
    creation = make_creation(user)
    with django_capture_on_commit_callbacks(execute=True):
        run_job(creation.job_id)
    [message] = mail.outbox
    assert message.subject == 'PetMemories 영상 "Chelsea"이(가) 완성되었어요'
    assert "보기, 내려받기, 공유하기:" in message.body and creation.get_absolute_url() in message.body


def test_a_korean_customer_s_order_paid_email_is_in_korean_with_won(client, user, stripe_api, django_capture_on_commit_callbacks):
    user.language = "ko"
    user.save()
    order = buy(client, user, "CLASSIC-10-WALNUT")  # asked in English: the email still follows the account
    stripe_api.complete_checkout(order.checkout_session_id, shipping=SHIPPING)
    with django_capture_on_commit_callbacks(execute=True):
        order_payment_sync(checkout_session_id=order.checkout_session_id)
    [message] = mail.outbox
    assert message.subject == f"PetMemories 주문 {order.number} 결제가 완료되었어요"
    assert "주문해 주셔서 감사합니다!" in message.body and "결제 금액: 149,000원" in message.body


# --- The committed catalog ---------------------------------------------------------------


def po_entries() -> list[dict]:
    """The entries of the committed django.po: flags, msgctxt, msgid, msgid_plural, msgstr[n]."""
    entries = []
    for block in (CATALOG / "django.po").read_text(encoding="utf-8").split("\n\n"):
        entry, key = {"flags": []}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line):
                key = match.group(1).replace("msgstr[", "msgstr").rstrip("]")
                entry[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"'):
                entry[key] += ast.literal_eval(line)
        entries.append(entry)
    return entries


def test_every_korean_message_is_translated_and_none_is_fuzzy():
    header, *entries = po_entries()
    assert header["msgid"] == "" and "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"]
    assert len(entries) > 300
    untranslated = [entry["msgid"] for entry in entries if not (entry.get("msgstr") or entry.get("msgstr0"))]
    fuzzy = [entry["msgid"] for entry in [header, *entries] if "fuzzy" in entry["flags"]]
    assert untranslated == [] and fuzzy == []


def test_the_committed_mo_is_compiled_from_the_committed_po():
    with (CATALOG / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in po_entries()[1:]:
        if "msgid_plural" in entry:
            found = [compiled.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2)]
            expected = [entry["msgstr0"]] * 2
        elif "msgctxt" in entry:
            found, expected = compiled.pgettext(entry["msgctxt"], entry["msgid"]), entry["msgstr"]
        else:
            found, expected = compiled.gettext(entry["msgid"]), entry["msgstr"]
        if found != expected:
            stale.append(entry["msgid"])
    assert stale == []
