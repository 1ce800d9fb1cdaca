"""The guestbook's rule against links, and how a memorial names the person in each language."""
import re
import unicodedata

from django.utils.translation import get_language

# Top-level domains a link in a message would end with. Written with a plain dot, any of
# these counts; written with spaces or spelled out ("example . com", "example dot com"), only
# the common ones do, so that "Thank you. Me and mum" stays a sentence.
_TLDS = (
    "com|net|org|kr|co|io|me|ly|info|biz|xyz|app|dev|site|online|shop|store|link|club|top|live|us|uk|jp|cn|ru|de|fr|tv|"
    "gg|to|ai|be|cc|ws|im|gl|kim|one|pro|asia|xn--[a-z0-9]+|한국|닷컴|닷넷"
)
_COMMON_TLDS = "com|net|org|kr|io|info|biz|xyz|app|shop|site|한국|닷컴|닷넷"
_DOT = r"[.。．｡·]"
_SPELLED_DOT = rf"(?:\s*{_DOT}\s+|\s+{_DOT}\s*|\s*[(\[{{<]\s*(?:{_DOT}|dot|점)\s*[)\]}}>]\s*|\s+(?:dot|점)\s+)"
_WORD = r"[a-z0-9가-힣\-]"
_LINK = re.compile(
    rf"(?:[a-z][a-z0-9+.\-]*\s*:\s*/\s*/"  # a scheme: http://, hxxp : //
    rf"|\bwww\b"
    rf"|{_WORD}{_DOT}(?:{_TLDS})(?![a-z0-9가-힣])"  # example.com, me@example.co.kr
    rf"|{_WORD}{_SPELLED_DOT}(?:{_COMMON_TLDS})(?![a-z0-9가-힣]))",
    re.IGNORECASE,
)


def contains_link(text: str) -> bool:
    """Whether ``text`` holds a web address, a domain name or an email address, plainly or
    thinly disguised (full-width letters, spaces around the dot, the dot spelled out)."""
    return bool(_LINK.search(unicodedata.normalize("NFKC", text)))


def honoured_name(name: str) -> str:
    """The person's name as the memorial page frames it. In Korean, "고(故) 홍길동 님": 고(故),
    "the late", before the name, as obituaries and funeral halls write it, and 님 after it,
    the respect a family's page shows; a name already written with 故 is left as it is. In
    English the name alone: "the late" is for running text, not a page's heading."""
    if not name or (get_language() or "").split("-")[0] != "ko":
        return name
    if name.startswith(("故", "고(故)")):
        return name
    return f"고(故) {name} 님"
