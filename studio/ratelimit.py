"""Rate limits counted in the shared cache, and the client address they are counted by.

Counters live in Django's default cache: with Redis (production requires CACHE_URL) every
web process counts into the same number; ``cache.add`` and ``cache.incr`` are atomic there.
"""
import ipaddress

from django.conf import settings
from django.core.cache import cache


def client_address(request) -> str:
    """Who a limit counts: REMOTE_ADDR, or the address our proxy passed in
    TRUSTED_CLIENT_IP_HEADER (the entry TRUSTED_PROXY_COUNT from the right of a list, since
    what a client writes on the left is anyone's guess). An IPv6 client counts as its /64,
    which one household usually holds whole."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.TRUSTED_CLIENT_IP_HEADER:
        entries = [entry.strip() for entry in request.headers.get(settings.TRUSTED_CLIENT_IP_HEADER, "").split(",") if entry.strip()]
        if entries:
            address = entries[-min(settings.TRUSTED_PROXY_COUNT, len(entries))]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)


def rate_limit_allow(*, scope: str, who: str, limit: int, seconds: int) -> bool:
    """Count one attempt by ``who`` at ``scope``; False once more than ``limit`` were made in
    the window of ``seconds`` that began with the first of them."""
    key = f"ratelimit:{scope}:{who}"
    cache.add(key, 0, timeout=seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add and incr: this attempt opens a new one
        cache.add(key, 1, timeout=seconds)
        count = 1
    return count <= limit
