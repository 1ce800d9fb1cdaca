from allauth.socialaccount.templatetags.socialaccount import get_providers
from django import template

register = template.Library()
# allauth orders the buttons by name; Korean families look for Kakao and Naver first.
ORDER = ["kakao", "naver", "google", "apple"]


@register.simple_tag(takes_context=True)
def social_providers(context) -> list:
    """The providers switched on (allauth's get_providers), Kakao first."""
    return sorted(get_providers(context), key=lambda p: ORDER.index(p.id) if p.id in ORDER else len(ORDER))
