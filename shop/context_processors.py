from .money import currency_for_language


def shop(request):
    """The visitor's currency (chosen, or from their language) for every page."""
    currency = request.session.get("currency") if hasattr(request, "session") else None
    return {"shop_currency": currency or currency_for_language(getattr(request, "LANGUAGE_CODE", None) or request.headers.get("Accept-Language"))}
