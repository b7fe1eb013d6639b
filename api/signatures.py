"""Who sent a webhook: Standard Webhooks signatures, Contentful's request verification, and
Strapi's shared-secret header. Pure functions over the raw bytes; nothing here parses JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


class Rejected(Exception):
    """The request is not authentic (answered 401). The message names the reason, never a
    secret or an expected signature."""


@dataclass(frozen=True)
class Verified:
    scheme: str
    """"standard", "contentful" or "strapi": which payload shapes to expect."""
    delivery: str
    """The id that makes a redelivery recognisable (see dedupe)."""


def parse_secrets(text: str) -> list[bytes]:
    """CAREPRESS_WEBHOOK_SECRETS: comma-separated `whsec_<base64>`; two during a rotation."""
    keys = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if not item.startswith(SECRET_PREFIX):
            raise ValueError("each webhook secret must look like whsec_<base64>")
        try:
            key = base64.b64decode(item.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error as exc:
            raise ValueError("a webhook secret is not valid base64 after whsec_") from exc
        if len(key) < 16:
            raise ValueError("a webhook secret must hold at least 16 random bytes")
        keys.append(key)
    return keys


def sign_standard(key: bytes, delivery: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one key (used by tests and the benchmark)."""
    digest = hmac.new(key, f"{delivery}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_standard(headers: Mapping[str, str], body: bytes, keys: list[bytes], now: float,
                    tolerance: int) -> Verified:
    """Standard Webhooks: HMAC-SHA256 of "id.timestamp.body", base64, in `v1,<sig>` entries
    separated by spaces; any configured key may match (rotation)."""
    delivery = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    offered = headers.get("webhook-signature", "")
    if not (delivery and stamp and offered and keys):
        raise Rejected("missing webhook-id, webhook-timestamp or webhook-signature")
    _check_time(stamp, now, tolerance, 1)
    expected = [sign_standard(key, delivery, int(stamp), body).encode() for key in keys]
    candidates = [s.encode() for s in offered.split() if s.startswith("v1,")]
    # Every pair is compared in constant time; no early exit that depends on a secret.
    matched = [hmac.compare_digest(e, c) for e in expected for c in candidates]
    if not any(matched):
        raise Rejected("signature does not match")
    return Verified("standard", f"std:{delivery}")


def _check_time(stamp: str, now: float, tolerance: int, per_second: int) -> None:
    try:
        sent = int(stamp) / per_second
    except ValueError as exc:
        raise Rejected("timestamp is not an integer") from exc
    if abs(now - sent) > tolerance:
        raise Rejected("timestamp too old or too far in the future")


def sign_contentful(secret: str, method: str, path: str, headers: Mapping[str, str],
                    body: bytes) -> str:
    """Contentful's request signature (hex HMAC-SHA256 of its canonical request), computed the
    way its node-apps-toolkit does: method, path, the signed headers (lower-cased, trimmed,
    sorted, `key:value` joined by ';') and the body, joined by newlines."""
    canonical = "\n".join([method, path, _signed_headers(headers), body.decode("utf-8")])
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _signed_headers(headers: Mapping[str, str]) -> str:
    names = [n.strip().lower() for n in headers.get("x-contentful-signed-headers", "").split(",")]
    picked = {n: headers[n].strip() for n in names if n and n in headers}
    # As the toolkit does: the list of signed headers is itself signed, sorted.
    picked["x-contentful-signed-headers"] = ",".join(
        sorted({*picked, "x-contentful-signed-headers", "x-contentful-timestamp"}))
    return ";".join(f"{k}:{v}" for k, v in sorted(picked.items()))


def verify_contentful(method: str, path: str, headers: Mapping[str, str], body: bytes,
                      secret: str, now: float, tolerance: int) -> Verified:
    signature = headers.get("x-contentful-signature", "")
    signed = {n.strip().lower() for n in headers.get("x-contentful-signed-headers", "").split(",")}
    if not (signature and secret and "x-contentful-timestamp" in signed):
        raise Rejected("missing Contentful signature headers, or an unsigned timestamp")
    _check_time(headers.get("x-contentful-timestamp", ""), now, tolerance, 1000)
    try:
        expected = sign_contentful(secret, method, path, headers, body)
    except UnicodeDecodeError as exc:
        raise Rejected("body is not UTF-8") from exc
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Rejected("signature does not match")
    # Contentful sends no delivery id: the topic and body identify a redelivery.
    topic = headers.get("x-contentful-topic", "")
    return Verified("contentful", "cf:" + hashlib.sha256(topic.encode() + b"\n" + body)
                    .hexdigest())


def verify_strapi(headers: Mapping[str, str], body: bytes, header: str, secret: str) -> Verified:
    """Strapi signs nothing: it can only send a configured header. Weaker: anyone who sees one
    request can replay or forge others, which is why TLS and the dedupe matter here."""
    offered = headers.get(header.lower(), "").strip().removeprefix("Bearer ").strip()
    if not (secret and offered):
        raise Rejected(f"missing {header} header")
    if not hmac.compare_digest(offered.encode(), secret.encode()):
        raise Rejected("wrong shared secret")
    return Verified("strapi", "strapi:" + hashlib.sha256(body).hexdigest())
