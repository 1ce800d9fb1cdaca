"""A stand-in for Kakao, Naver, Google and Apple sign-in, reached at their real addresses.

allauth's providers call fixed https URLs (kauth.kakao.com, nid.naver.com, ...). Rather than
pointing our code or allauth elsewhere, the tests route the network: the fake is an HTTP proxy
(``HTTPS_PROXY``, which requests honours) that answers each CONNECT tunnel itself, speaking TLS
with a certificate for those hosts from a throwaway CA that the client trusts for the test
(``REQUESTS_CA_BUNDLE``). The test plays the browser through the same proxy. Each endpoint
answers in the shape its provider documents.
"""
import html
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .tls import certificates_make

HOSTS = [
    "kauth.kakao.com", "kapi.kakao.com", "nid.naver.com", "openapi.naver.com",
    "accounts.google.com", "oauth2.googleapis.com", "appleid.apple.com",
]
AUTHORIZE = {
    ("kauth.kakao.com", "/oauth/authorize"): "kakao",
    ("nid.naver.com", "/oauth2.0/authorize"): "naver",
    ("accounts.google.com", "/o/oauth2/v2/auth"): "google",
    ("appleid.apple.com", "/auth/authorize"): "apple",
}
TOKEN = {
    ("kauth.kakao.com", "/oauth/token"): "kakao",
    ("nid.naver.com", "/oauth2.0/token"): "naver",
    ("oauth2.googleapis.com", "/token"): "google",
    ("appleid.apple.com", "/auth/token"): "apple",
}
ISSUERS = {"google": "https://accounts.google.com", "apple": "https://appleid.apple.com"}


@dataclass(frozen=True)
class Person:
    """Who consents at the provider: their id there, their email and whether the provider
    says it verified that email."""

    uid: str
    email: str | None  # None: they do not let the provider share it
    email_verified: bool = True
    name: str = "Nabi's person"


@dataclass(frozen=True)
class Grant:
    provider: str
    person: Person
    client_id: str
    redirect_uri: str
    scope: frozenset[str]


class OAuthFake:
    def __init__(self, *, folder: Path):
        self.ca_bundle, cert, key = certificates_make(hosts=HOSTS, folder=folder)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signing_kid = "fake-" + secrets.token_hex(4)
        # The private key Apple lets a developer download; the fake checks client secrets with it.
        self.apple_private_key = ec.generate_private_key(ec.SECP256R1())
        self.consenting: dict[str, Person] = {}
        self.grants: dict[str, Grant] = {}
        self.tokens: dict[str, Grant] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self
        self.proxy_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def apple_private_key_pem(self) -> str:
        return self.apple_private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def consents(self, *, provider: str, person: Person) -> None:
        """The next visitor to `provider`'s authorize page signs in there as `person` and agrees."""
        self.consenting[provider] = person

    # --- Endpoints: each returns (status, headers, body) ---------------------------------------

    def answer(self, method: str, host: str, path: str, params: dict, headers) -> tuple[int, dict, bytes]:
        if method == "GET" and (host, path) in AUTHORIZE:
            return self.authorize(AUTHORIZE[host, path], params)
        if method == "POST" and (host, path) in TOKEN:
            return self.token(TOKEN[host, path], params)
        bearer = headers.get("Authorization", "").removeprefix("Bearer ")
        if method == "GET" and (host, path) == ("kapi.kakao.com", "/v2/user/me"):
            return self.kakao_me(bearer)
        if method == "GET" and (host, path) == ("openapi.naver.com", "/v1/nid/me"):
            return self.naver_me(bearer)
        if method == "GET" and (host, path) == ("appleid.apple.com", "/auth/keys"):
            return _json(200, {"keys": [self.public_jwk()]})
        return _json(404, {"error": "not_found", "path": f"{host}{path}"})

    def authorize(self, provider: str, params: dict) -> tuple[int, dict, bytes]:
        person = self.consenting.get(provider)
        if person is None or not params.get("client_id") or not params.get("redirect_uri"):
            return _json(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(16)
        scope = frozenset(params.get("scope", "").replace(",", " ").split())
        self.grants[code] = Grant(provider, person, params["client_id"], params["redirect_uri"], scope)
        answer = {"code": code, "state": params.get("state", "")}
        if provider != "apple":
            return 302, {"Location": f"{params['redirect_uri']}?{urlencode(answer)}"}, b""
        # Sign in with Apple's response_mode=form_post: the browser posts the code back, with the
        # person's name and email the first time they sign in to this app.
        answer["user"] = json.dumps({"name": {"firstName": person.name, "lastName": ""}, "email": person.email})
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">' for name, value in answer.items()
        )
        page = f'<form method="post" action="{html.escape(params["redirect_uri"])}">{fields}</form>'
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()

    def token(self, provider: str, params: dict) -> tuple[int, dict, bytes]:
        grant = self.grants.pop(params.get("code", ""), None)
        if (
            grant is None or grant.provider != provider or params.get("grant_type") != "authorization_code"
            or params.get("redirect_uri") != grant.redirect_uri or params.get("client_id") != grant.client_id
            or not self.client_secret_valid(provider, grant, params.get("client_secret", ""))
        ):
            return _json(400, {"error": "invalid_grant"})
        access_token = secrets.token_urlsafe(24)
        self.tokens[access_token] = grant
        body = {"access_token": access_token, "token_type": "bearer", "refresh_token": secrets.token_urlsafe(24)}
        if provider == "kakao":
            body |= {"expires_in": 21599, "refresh_token_expires_in": 5183999, "scope": "account_email profile_nickname"}
        elif provider == "naver":
            body |= {"expires_in": "3600"}  # Naver sends a string
        else:
            body |= {"expires_in": 3599, "id_token": self.id_token(grant)}
        return _json(200, body)

    def client_secret_valid(self, provider: str, grant: Grant, client_secret: str) -> bool:
        if provider != "apple":
            return bool(client_secret)
        # Apple's client secret: a JWT signed with the developer's private key, naming the app.
        try:
            claims = jwt.decode(client_secret, self.apple_private_key.public_key(), algorithms=["ES256"],
                                audience="https://appleid.apple.com")
        except jwt.InvalidTokenError:
            return False
        return claims["sub"] == grant.client_id

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUERS[grant.provider], "aud": grant.client_id, "sub": grant.person.uid,
            "iat": now, "exp": now + 600, "email": grant.person.email,
        }
        if grant.provider == "google":
            claims |= {"azp": grant.client_id, "email_verified": grant.person.email_verified, "name": grant.person.name}
        else:  # Apple writes the flag as a string
            claims |= {"email_verified": str(grant.person.email_verified).lower(), "auth_time": now}
        return jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": self.signing_kid})

    def public_jwk(self) -> dict:
        key = jwt.algorithms.RSAAlgorithm.to_jwk(self.signing_key.public_key(), as_dict=True)
        return key | {"kid": self.signing_kid, "use": "sig", "alg": "RS256"}

    def kakao_me(self, bearer: str) -> tuple[int, dict, bytes]:
        grant = self.tokens.get(bearer)
        if grant is None or grant.provider != "kakao":
            return _json(401, {"msg": "this access token does not exist", "code": -401})
        person = grant.person
        # Kakao shares the email only when the app asked for the account_email consent item.
        email = person.email if "account_email" in grant.scope else None
        return _json(200, {
            "id": int(person.uid),
            "connected_at": "2026-12-01T09:00:00Z",
            "properties": {"nickname": person.name},
            "kakao_account": {
                "profile_nickname_needs_agreement": False,
                "profile": {"nickname": person.name, "is_default_nickname": False},
                "has_email": True,
                "email_needs_agreement": email is None,
                **({} if email is None else {
                    "is_email_valid": True, "is_email_verified": person.email_verified, "email": email,
                }),
            },
        })

    def naver_me(self, bearer: str) -> tuple[int, dict, bytes]:
        grant = self.tokens.get(bearer)
        if grant is None or grant.provider != "naver":
            return _json(401, {"resultcode": "024", "message": "Authentication failed"})
        person = grant.person
        return _json(200, {
            "resultcode": "00", "message": "success",
            "response": {"id": person.uid, "nickname": person.name, "name": person.name, "email": person.email},
        })


def _json(status: int, body: dict) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json;charset=UTF-8"}, json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    host = None  # the provider host this connection tunnels to, once CONNECTed

    def do_CONNECT(self):
        self.host = self.path.rpartition(":")[0]
        if self.host not in HOSTS:
            self.send_error(403, "Only the sign-in providers are faked here")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        # From here on the same connection carries TLS, and the requests inside it.
        self.connection = self.server.fake.tls.wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb")
        self.wfile = self.connection.makefile("wb")
        self.close_connection = False

    def do_GET(self):
        self.respond({})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.respond(dict(parse_qsl(self.rfile.read(length).decode())))

    def respond(self, form: dict):
        url = urlsplit(self.path)
        if self.host is None:
            self.send_error(405, "Only https through CONNECT")
            return
        params = dict(parse_qsl(url.query)) | form
        status, headers, body = self.server.fake.answer(self.command, self.host, url.path, params, self.headers)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def finish(self):
        super().finish()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.close()

    def log_message(self, format, *args):
        pass
