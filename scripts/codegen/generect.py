"""Generect: fixes applied to the upstream snapshot, in order.

Each step is one named fix with the reason in its docstring; see flamel.py for how
they re-apply when Generect publishes a new document.
"""

from __future__ import annotations

from typing import Any

from .spec import Spec, SpecError, Step, make_nullable, operation, prop, schema, schemas

BASE_URL = "https://api.generect.com"
# Generect's paths end with "/"; without it the API redirects or answers 404.
PATH = "/api/auth/users/me/"
# Headers that describe the HTTP server, not the API. Documented as response headers
# they make Prism send e.g. `Content-Length: 872` for a body of another length.
TRANSPORT_HEADERS = {
    "Allow",
    "Content-Length",
    "Cross-Origin-Opener-Policy",
    "Date",
    "Referrer-Policy",
    "Server",
    "Vary",
    "X-Content-Type-Options",
    "X-Frame-Options",
}


def real_server_only(spec: Spec) -> None:
    """The client's `base_url` option replaces the server; the spec names the real one."""
    urls = [server["url"] for server in spec.get("servers", [])]
    if BASE_URL not in urls:
        raise SpecError(f"{BASE_URL} is no longer among the servers: {urls}")
    spec["servers"] = [{"url": BASE_URL, "description": "Production"}]


def clean_tags(spec: Spec) -> None:
    """Tag `1. Auth` generates the module `api/field_1_auth`; the other three tags name
    operations this document does not contain."""
    op = operation(spec, "get", PATH)
    if op.get("tags") != ["1. Auth"]:
        raise SpecError(f"unexpected tags {op.get('tags')}")
    op["tags"] = ["auth"]
    spec["tags"] = [{"name": "auth", "description": "The signed-in user's account"}]


def token_auth_scheme(spec: Spec) -> None:
    """Auth is `Authorization: Token <key>`. The scheme is an `apiKey` in the
    `Authorization` header (OpenAPI 3.0 has no http scheme named Token); renamed to say
    what it is."""
    security = spec["components"]["securitySchemes"]
    scheme = security.pop("apiKey")
    if scheme.get("in") != "header" or scheme.get("name") != "Authorization":
        raise SpecError(f"unexpected security scheme {scheme}")
    scheme["description"] = "The API key with the Token prefix: `Authorization: Token <api-key>`."
    security["tokenAuth"] = scheme
    spec["security"] = [{"tokenAuth": []}]
    operation(spec, "get", PATH)["security"] = [{"tokenAuth": []}]


def drop_transport_headers(spec: Spec) -> None:
    """Response headers that describe the web server (see TRANSPORT_HEADERS)."""
    response = operation(spec, "get", PATH)["responses"]["200"]
    headers = response.get("headers", {})
    for name in TRANSPORT_HEADERS & set(headers):
        del headers[name]
    if not headers:
        response.pop("headers", None)


def named_user_schema(spec: Spec) -> None:
    """The response schema is inline, so the generator names it
    `GetUserMeResponse200` (and `GetUserMeResponse200IcpFlow`). Move it to named
    components `User` and `IcpFlow`."""
    response = operation(spec, "get", PATH)["responses"]["200"]
    response["description"] = "The user's credit balances and account details."
    media = response["content"]["application/json"]
    inline: dict[str, Any] = media["schema"]
    if "$ref" in inline:
        raise SpecError("the response schema is no longer inline")
    icp_flow = inline["properties"].pop("icp_flow")
    icp_flow["description"] = "Onboarding state of the ICP (ideal customer profile) flow."
    schemas(spec)["IcpFlow"] = icp_flow
    inline["properties"]["icp_flow"] = {"$ref": "#/components/schemas/IcpFlow"}
    inline["description"] = "The current user: credit balances per product, limits and plan."
    schemas(spec)["User"] = inline
    media["schema"] = {"$ref": "#/components/schemas/User"}


def required_fields(spec: Spec) -> None:
    """There is no required list, so every field generates as `X | Unset`; they become
    required. `icp_flow`'s inner flags stay optional: they track onboarding steps that
    come and go.

    Documented defect: the document is a Postman export of one captured response (the
    web server's `Content-Length`, `Date` and `Server` are documented as response
    headers, the description of 200 is '200'), and such exports carry no `required`
    list at all. The API is Django REST Framework (`Server`, `Token` auth), whose
    serializers send every declared field, null when empty (`logo: null` in the
    example) rather than leaving it out (tests/test_upstream_fidelity.py lists this
    step as a correction)."""
    user = schema(spec, "User")
    user["required"] = sorted(user["properties"])


def untyped_nullables(spec: Spec) -> None:
    """`logo` and `prev_subscription_status` have no type, only `nullable: true`;
    the generator makes them `Any`. Both are strings when present (a logo URL, a
    subscription status name).

    Documented defect: the Postman export infers a type from the one captured value,
    and both were null there, so no type could be written (`example: null`). The field
    names say what they hold. (The weakest evidence of the corrections: review it when
    Generect documents the fields; tests/test_upstream_fidelity.py lists this step.)"""
    for name in ("logo", "prev_subscription_status"):
        body = prop(spec, "User", name)
        if "type" in body:
            raise SpecError(f"User.{name} is typed now: {body}")
        body["type"] = "string"
    make_nullable(spec, "User", "logo", "prev_subscription_status")
    prop(spec, "User", "logo")["description"] = "URL of the account's logo; null when none."
    prop(spec, "User", "prev_subscription_status")["description"] = (
        "Status of the previous subscription; null when there was none."
    )


# RFC 3339 `full-date "T" partial-time`, as a pattern that only real dates match (month
# lengths, leap years), so that a mock generating values from it (Prism's dynamic mode)
# makes ones a client can parse. [0-9], not \d: Python's \d also matches non-ASCII digits.
_YEAR = "[1-9][0-9]{3}"
_MONTH_DAY = (
    "(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8])"
)
_LEAP_YEAR = "[1-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00"
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?"
LOCAL_DATE_TIME = f"^(?:{_YEAR}-(?:{_MONTH_DAY})|(?:{_LEAP_YEAR})-02-29)T{_TIME}$"


def naive_timestamp(spec: Spec) -> None:
    """`last_password_changed` is a date-time without a zone ('2024-10-30T13:09:31'), and
    the docs do not say which zone it is in. `format: date-time` requires an offset
    (RFC 3339), so Prism would flag the provider's own example; upstream leaves it a
    plain string, so the client returned a `str` a user cannot compare with a datetime.
    It gets `format: date-time-local` (the OpenAPI format registry's RFC 3339 date-time
    without the offset), which the generator's templates parse into a naive `datetime`
    (model.py.jinja), and a pattern so that validators that do not know the format still
    check it.

    Documented defect: the Postman export carries JSON types only, never a `format`;
    the captured value is Django REST Framework's DateTimeField output (ISO 8601, no
    offset when the server runs without time zones). tests/test_upstream_fidelity.py
    lists this step as a correction."""
    body = prop(spec, "User", "last_password_changed")
    if "format" in body:
        raise SpecError(f"User.last_password_changed has a format now: {body}")
    body["format"] = "date-time-local"
    body["pattern"] = LOCAL_DATE_TIME
    body["description"] = (
        "When the password was last changed: an ISO 8601 date-time without zone offset. "
        "A naive datetime: the provider does not document the zone."
    )


def error_responses(spec: Spec) -> None:
    """No error response is documented. The API is Django REST Framework (the
    `Server` header, `Token` auth), whose authentication and permission errors are
    `{"detail": "..."}`: document 401 and 403 with that body."""
    schemas(spec)["ErrorDetail"] = {
        "type": "object",
        "description": "Error body: a human-readable reason.",
        "required": ["detail"],
        "properties": {"detail": {"type": "string", "description": "The reason."}},
    }
    responses = operation(spec, "get", PATH)["responses"]
    for status, description, detail in (
        ("401", "The API key is missing or invalid.", "Invalid token."),
        (
            "403",
            "The key may not read this account.",
            "You do not have permission to perform this action.",
        ),
    ):
        responses[status] = {
            "description": description,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ErrorDetail"},
                    "examples": {"Error": {"value": {"detail": detail}}},
                }
            },
        }


# Credit balances and counts stay `number`, as upstream types them: a real account can
# hold a fractional balance (`balance_platform: 4120.5`). A step that narrowed them to
# `integer` because the examples were whole numbers made such a body fail (issue #18).
# A step may correct a documented defect; it may not invent a constraint
# (tests/test_upstream_fidelity.py checks that every upstream-valid body parses).
STEPS: list[Step] = [
    real_server_only,
    clean_tags,
    token_auth_scheme,
    drop_transport_headers,
    named_user_schema,
    required_fields,
    untyped_nullables,
    naive_timestamp,
    error_responses,
]
