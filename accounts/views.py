from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from .services import user_language_remember


@require_POST
def language_set(request):
    """Django's language switcher (a cookie for the browser), and, for a signed-in customer,
    the language of the emails we send them."""
    response = set_language(request)
    if request.user.is_authenticated:
        user_language_remember(user=request.user, language=request.POST.get("language"))
    return response
