"""Who is calling the API, and whether they may: API keys, JWT bearer tokens, roles.

The modes are the original's: `anonymous` (any client that shows an API key in the
`X-Api-Key` header, or a valid token), `authenticated` (a valid bearer token) and `role` (a
valid token whose roles claim lists the role). Tokens are checked with PyJWT against an HS256
secret or an RS256 public key from the environment (or a file it names); `exp` is required.
A credential that is shown but wrong rejects the request, whatever the operation needs.
Secrets and tokens are never logged or put in error messages.
"""

from __future__ import annotations

import hmac
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .model import Access

API_KEY_HEADER = "x-api-key"
LEEWAY = 30  # seconds of clock difference allowed on exp and nbf


class AuthError(Exception):
    """The caller may not do this; `code` is UNAUTHENTICATED (no or bad credentials) or
    FORBIDDEN (valid credentials, not enough rights)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Caller:
    """The credentials of one request, once checked."""

    username: str = ""  # from a valid token; "" without one
    roles: frozenset[str] = frozenset()
    api_key: bool = False  # showed a valid API key


@dataclass(frozen=True, slots=True)
class AuthSettings:
    api_keys: tuple[str, ...] = ()
    jwt_key: str = field(default="", repr=False)  # the HS256 secret or the RS256 public key
    jwt_algorithm: str = ""  # "HS256", "RS256", or "" (tokens are not accepted)
    issuer: str = ""
    audience: str = ""
    username_claim: str = "sub"
    roles_claim: str = "roles"

    @classmethod
    def from_env(cls, prefix: str, environ: Mapping[str, str]) -> AuthSettings:
        def value(name: str) -> str:
            """`<PREFIX>_<NAME>`, or the content of the file `<PREFIX>_<NAME>_FILE` names."""
            direct = environ.get(f"{prefix}_{name}", "")
            path = environ.get(f"{prefix}_{name}_FILE", "")
            if direct and path:
                raise ConfigError(f"set {prefix}_{name} or {prefix}_{name}_FILE, not both")
            if not path:
                return direct
            try:
                return Path(path).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise ConfigError(f"{prefix}_{name}_FILE: cannot read {path}: {reason}") from None

        keys = tuple(
            k.strip() for k in value("API_KEYS").replace("\n", ",").split(",") if k.strip()
        )
        secret, public = value("JWT_SECRET"), value("JWT_PUBLIC_KEY")
        if secret and public:
            raise ConfigError(
                f"set {prefix}_JWT_SECRET (HS256) or {prefix}_JWT_PUBLIC_KEY (RS256), not both"
            )
        if secret and len(secret) < 32:
            raise ConfigError(f"{prefix}_JWT_SECRET must be at least 32 characters long")
        if public:
            _check_public_key(f"{prefix}_JWT_PUBLIC_KEY", public)
        return cls(
            api_keys=keys,
            jwt_key=secret or public,
            jwt_algorithm="HS256" if secret else "RS256" if public else "",
            issuer=environ.get(f"{prefix}_JWT_ISSUER", ""),
            audience=environ.get(f"{prefix}_JWT_AUDIENCE", ""),
            username_claim=environ.get(f"{prefix}_JWT_USERNAME_CLAIM", "") or "sub",
            roles_claim=environ.get(f"{prefix}_JWT_ROLES_CLAIM", "") or "roles",
        )

    def describe(self) -> str:
        """What is configured, for the start-up log line: never the secrets themselves."""
        tokens = f"{self.jwt_algorithm} tokens" if self.jwt_algorithm else "no tokens"
        return f"{len(self.api_keys)} API key(s), {tokens}"


def _check_public_key(name: str, text: str) -> None:
    """An RSA public key in PEM form, or a ConfigError now (not on every request later)."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(text.encode("utf-8"))
    except (ValueError, TypeError, UnicodeError):
        raise ConfigError(f"{name} must be an RSA public key in PEM form") from None
    if not isinstance(key, RSAPublicKey):
        raise ConfigError(f"{name} must be an RSA public key (RS256), not {type(key).__name__}")


def authenticate(settings: AuthSettings, headers: Mapping[str, str]) -> Caller:
    """Check the credentials a request shows. Raises AuthError when one is wrong."""
    getlist = getattr(headers, "getlist", None)  # starlette's Headers: repeated headers
    if getlist is not None:
        for name in (API_KEY_HEADER, "authorization"):
            if len(getlist(name)) > 1:
                raise AuthError("UNAUTHENTICATED", f"the request has more than one {name} header")
    caller = Caller()
    # An empty header is no credential (the explorer's headers editor starts with one).
    key = headers.get(API_KEY_HEADER) or None
    if key is not None:
        if not any(hmac.compare_digest(key.encode(), k.encode()) for k in settings.api_keys):
            raise AuthError("UNAUTHENTICATED", "the API key is not valid")
        caller = Caller(api_key=True)
    authorization = headers.get("authorization") or None
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("UNAUTHENTICATED", "the Authorization header must be 'Bearer <token>'")
        claims = _claims(settings, token.strip())
        username = claims.get(settings.username_claim)
        if not isinstance(username, str) or not username:
            raise AuthError(
                "UNAUTHENTICATED", f"the token has no '{settings.username_claim}' claim"
            )
        roles = claims.get(settings.roles_claim, [])
        if isinstance(roles, str):
            roles = roles.split()
        if not isinstance(roles, list):
            roles = []
        caller = Caller(username, frozenset(r for r in roles if isinstance(r, str)), caller.api_key)
    return caller


# (the settings that verified it, token) -> claims: settings compare by value, so a token is
# only ever taken as verified by the same keys and rules.
_VERIFIED: OrderedDict[tuple[AuthSettings, str], dict[str, Any]] = OrderedDict()
VERIFIED_TOKENS = 1024  # tokens whose signature check is remembered (a third of a request)


def _claims(settings: AuthSettings, token: str) -> dict[str, Any]:
    """The claims of a valid token. A token once verified is remembered (by the settings
    that verified it); its expiry is checked again on every use."""
    remembered = _VERIFIED.get((settings, token))
    if remembered is not None:
        if remembered["exp"] + LEEWAY < time.time():
            raise AuthError("UNAUTHENTICATED", "the token has expired")
        return remembered
    claims = _verify(settings, token)
    _VERIFIED[(settings, token)] = claims
    if len(_VERIFIED) > VERIFIED_TOKENS:
        _VERIFIED.popitem(last=False)
    return claims


def _verify(settings: AuthSettings, token: str) -> dict[str, Any]:
    import jwt  # the api extra; imported here so the rest of the runtime does not need it

    if not settings.jwt_algorithm:
        raise AuthError("UNAUTHENTICATED", "this service accepts no tokens (none configured)")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_key,
            algorithms=[settings.jwt_algorithm],
            audience=settings.audience or None,
            issuer=settings.issuer or None,
            options={"require": ["exp"]},
            leeway=LEEWAY,
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("UNAUTHENTICATED", "the token has expired") from None
    except jwt.InvalidTokenError as exc:
        # PyJWT's messages name what failed (signature, audience, a claim), never the key.
        raise AuthError("UNAUTHENTICATED", f"the token is not valid: {exc}") from None
    except jwt.PyJWTError:  # the key and the token's algorithm do not go together
        raise AuthError("UNAUTHENTICATED", "the token is not valid for this service") from None
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        raise AuthError("UNAUTHENTICATED", "the token's exp claim must be a number")  # RFC 7519
    return claims


def authorize(access: Access, caller: Caller, what: str) -> None:
    """Raise AuthError unless `caller` may do `what` under `access`."""
    if access.mode == "anonymous":
        if caller.api_key or caller.username:
            return
        raise AuthError("UNAUTHENTICATED", f"{what} needs an API key (X-Api-Key) or a token")
    if not caller.username:
        raise AuthError("UNAUTHENTICATED", f"{what} needs a bearer token")
    if access.mode == "role" and access.role not in caller.roles:
        raise AuthError("FORBIDDEN", f"{what} needs the role '{access.role}'")
