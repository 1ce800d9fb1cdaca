"""Every email we send: a subject and a body template, rendered in the recipient's language."""
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation


def mail_send(*, template: str, context: dict, to: str, language: str) -> None:
    """Send ``<template>_subject.txt`` and ``<template>.txt``, rendered in ``language`` (their
    words, dates and money), to ``to``."""
    with translation.override(language):
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}.txt", context)
    send_mail(subject, body, None, [to])
