"""Every email we send: a subject and a body template, rendered in the recipient's language."""
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation


def mail_send(*, template: str, context: dict, to: str, language: str) -> None:
    """Send ``<template>_subject.txt`` and ``<template>.txt``, rendered in ``language`` (their
    words, dates and money), to ``to``. They are plain text: rendered by the "text" template
    engine, which escapes nothing ("Nabi's & Coco" stays so)."""
    with translation.override(language):
        subject = render_to_string(f"{template}_subject.txt", context, using="text")
        body = render_to_string(f"{template}.txt", context, using="text")
    # A header is one line: a line break in a name (from before names were checked) must not
    # make send_mail refuse the whole message.
    send_mail(" ".join(subject.split()), body, None, [to])
