from functools import partial

from django.utils.functional import SimpleLazyObject

from .money import currency_for_language
from .selectors import launch_mode_banner


def _launch_mode(request):
    if not hasattr(request, "_launch_mode"):
        request._launch_mode = launch_mode_banner()
    return request._launch_mode


def shop(request):
    """The visitor's currency (chosen, or from their language), and launch mode's banner, for every page."""
    currency = request.session.get("currency") if hasattr(request, "session") else None
    return {
        "shop_currency": currency or currency_for_language(getattr(request, "LANGUAGE_CODE", None) or request.headers.get("Accept-Language")),
        # Lazy, and once per request: only pages that show the banner ask (not htmx partials that poll).
        "launch_mode": SimpleLazyObject(partial(_launch_mode, request)),
    }
