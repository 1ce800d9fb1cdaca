"""Template tags for what every page renders the same way in a process: the layout's static
files and links. Django's {% static %} asks the manifest and {% url %} walks the URL patterns
on every render; the layout has a dozen of them (docs/operations.md, "Templates")."""
from functools import lru_cache

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@lru_cache(maxsize=64)
def _static(path: str) -> str:
    return static(path)


@lru_cache(maxsize=256)
def _reverse(name: str, prefix: str, urlconf) -> str:
    return reverse(name, urlconf=urlconf)


@register.simple_tag
def static_url(path: str) -> str:
    """{% static %} remembered: the files and their manifest do not change while a process runs."""
    return _static(path)


@register.simple_tag
def link(name: str) -> str:
    """{% url %} of a page without arguments, remembered per URL prefix and URL configuration."""
    return _reverse(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
