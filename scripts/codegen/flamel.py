"""Flamel: fixes applied to the upstream snapshot, in order.

Each step is one named fix with the reason in its docstring. They were found by
running the raw document through openapi-spec-validator, Prism and
openapi-python-client. When Flamel publishes a new document, take a new snapshot
(``scripts/snapshot.py``) and run ``scripts/generate.py``: the same fixes re-apply,
and a step whose target moved fails loudly (`SpecError`).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from .report import line_of, load_yaml
from .spec import (
    HANGUL,
    Spec,
    SpecError,
    Step,
    all_properties,
    make_nullable,
    make_optional,
    operation,
    prop,
    retype,
    schema,
    schemas,
    strip_hangul_parenthetical,
)

PATCH_FILE = Path(__file__).with_name("flamel_patch.yaml")


@functools.cache
def patch() -> dict[str, Any]:
    """flamel_patch.yaml: translations and examples (read when a step needs it)."""
    data = load_yaml(PATCH_FILE)
    if not isinstance(data, dict):
        raise SpecError("not a YAML mapping", file=PATCH_FILE)
    return data


BASE_URL = "https://beta.flamel.app"
PATH = "/api/users/me"


def english_title(spec: Spec) -> None:
    """The title 'Flamel API 문서' makes the generator name the package
    `flamel_api_문서_client`; the description is Korean."""
    spec["info"]["title"] = "Flamel API"
    spec["info"]["description"] = patch()["info_description"]


def real_server_only(spec: Spec) -> None:
    """Upstream lists a local Prism mock first; the client's `base_url` option
    replaces the server, so the spec names only the real one."""
    urls = [server["url"] for server in spec.get("servers", [])]
    if BASE_URL not in urls:
        raise SpecError(f"{BASE_URL} is no longer among the servers: {urls}")
    spec["servers"] = [{"url": BASE_URL, "description": "Production (beta)"}]


def clean_operation(spec: Spec) -> None:
    """`UsersApiController_getMyInfo` generates `users_api_controller_get_my_info`:
    the method is `get_my_info`. Summaries and descriptions become English, and the
    unused 'Flamel' tag goes: the operation's tag is `users`."""
    op = operation(spec, "get", PATH)
    op["operationId"] = "getMyInfo"
    op["tags"] = ["users"]
    op["summary"] = strip_hangul_parenthetical(op["summary"])
    op["description"] = (
        "The account the API key belongs to: profile, plan, credits and billing state."
    )
    for response in op["responses"].values():
        response["description"] = strip_hangul_parenthetical(response["description"])
        for example in (
            response.get("content", {}).get("application/json", {}).get("examples", {}).values()
        ):
            example["summary"] = strip_hangul_parenthetical(example["summary"])
    spec["tags"] = [{"name": "users", "description": "The signed-in user's account"}]


def define_session_cookie(spec: Spec) -> None:
    """The operation accepts `connect.sid` (the web app's session cookie) or the API
    key, but `connect.sid` is never defined, which validators reject. Define it as what
    it is, a cookie; creditwatch authenticates with the API key."""
    security = spec["components"].setdefault("securitySchemes", {})
    security["connect.sid"] = {
        "type": "apiKey",
        "in": "cookie",
        "name": "connect.sid",
        "description": "Session cookie of the Flamel web app (not used by API clients).",
    }
    security["apiKey"]["description"] = "The API key issued in the Flamel dashboard."


def unslash_patterns(spec: Spec) -> None:
    """Patterns are written as JavaScript regex literals (`/[A-Z]{3}/`), so the
    slashes become part of the pattern and every valid value is rejected."""
    found = False
    for _, _, body in all_properties(spec):
        pattern = body.get("pattern")
        if isinstance(pattern, str) and len(pattern) > 1 and pattern[0] == pattern[-1] == "/":
            body["pattern"] = pattern[1:-1].replace("\\/", "/")
            found = True
    if not found:
        raise SpecError("no slash-delimited pattern left: upstream fixed them")


def examples_match_types(spec: Spec) -> None:
    """Examples that contradict their types: `scaleSize` (a string) has an array,
    `CreditCostInfo.credit` (a number) has the string '1', and the free-form objects
    `params`/`example` have the string '{json}'."""
    prop(spec, "EnterpriseDownload", "scaleSize")["example"] = "2x"
    prop(spec, "EnterpriseDownload", "scaleSize")["description"] = "Upscale size: 1x, 2x, 4x or 8x."
    prop(spec, "CreditCostInfo", "credit")["example"] = 1
    for name in ("params", "example"):
        prop(spec, "Model", name)["example"] = {}


def free_form_objects(spec: Spec) -> None:
    """`format: json` is not a format any tool knows, and the localized texts and
    JSON blobs each generate a one-off class (`ModelParams`, `PlanTitle`...). Give them
    two named shapes: `LocalizedText` (language -> text) and `JsonObject`."""
    schemas(spec)["JsonObject"] = {
        "type": "object",
        "description": "A free-form JSON object.",
        "additionalProperties": True,
    }
    schemas(spec)["LocalizedText"] = {
        "type": "object",
        "description": "A text per language code (en, ko, jp, ...).",
        "additionalProperties": {"type": "string"},
    }
    schemas(spec)["LocalizedPrices"] = {
        "type": "object",
        "description": "A price per locale (en, ko, jp, ...).",
        "additionalProperties": {"$ref": "#/components/schemas/PricePropertyDto"},
    }
    replacements = {
        ("Model", "params"): "JsonObject",
        ("Model", "example"): "JsonObject",
        ("Model", "nameGlobal"): "LocalizedText",
        ("Model", "descriptionGlobal"): "LocalizedText",
        ("Plan", "title"): "LocalizedText",
        ("Plan", "priceGlobal"): "LocalizedPrices",
    }
    for (schema_name, name), target in replacements.items():
        old = prop(spec, schema_name, name)
        new: dict[str, Any] = {"description": old.get("description", "")}
        new["allOf"] = [{"$ref": f"#/components/schemas/{target}"}]
        if "example" in old:
            new["example"] = old["example"]
        schema(spec, schema_name)["properties"][name] = new


_ID = re.compile(r"(^id$|Id$)")
# Counts of things, by their upstream descriptions: 내역 조회 개월수 (months of history),
# 최대 스타일 수 (number of styles), 동시 생성 제한 (simultaneous generations), 최대 일괄
# 이미지 선택 수, 최대 편집 수, 최대 프롬프트 수, 에러 횟수, 복구 횟수. Not here, because
# upstream does not say they are whole: `minusCreditAllowed` (credits, which can be
# fractional) and `ping` (an interval in minutes).
_COUNTS = {
    "historyPeriodMonth",
    "maxStyleNumber",
    "simultaneousLimit",
    "maxMultiSelect",
    "maxEditNumber",
    "maxPromptNumber",
    "errorCount",
    "recoverCount",
}


def integer_ids_and_counts(spec: Spec) -> None:
    """Ids and counts are `number`, which generates `float`; they become `integer`.
    Credits, prices, amounts and intervals stay `number`: they can be fractional.

    Documented defect: the document is generated by NestJS (@nestjs/swagger; the
    operationId `UsersApiController_getMyInfo` is its Controller_method naming), which
    writes every TypeScript `number` as `type: number` and so cannot say integer. The
    descriptions say what these are: ids (아이디) and counts of things (수, 개수, 횟수,
    제한). Nothing that upstream describes as a quantity of credits, money or time is
    narrowed (tests/test_upstream_fidelity.py lists this step as a correction)."""
    changed = 0
    for schema_name, name, body in list(all_properties(spec)):
        if body.get("type") == "number" and (_ID.search(name) or name in _COUNTS):
            retype(spec, schema_name, name, "integer")
            changed += 1
    if not changed:
        raise SpecError("no number-typed id or count left: upstream fixed them")


def optional_things_nullable(spec: Spec) -> None:
    """Every property is required and only `billingRetryDate` is nullable, yet a real
    account has no card, no SNS login, no profile image, no next plan (the spec's own
    description: a null `nextPlanId` keeps the current plan), no billing retry and no
    enterprise contract. Those fields become nullable; references to a backup model,
    an upgrade plan, a model URL or logo likewise. Deprecated fields become optional, as
    a deprecated field is one the API may stop sending."""
    make_nullable(
        spec,
        "AuthUserDto",
        "profileImage",
        "snsId",
        "cardNumber",
        "cardCompany",
        "nextPlanId",
        "nextPlanAt",
        "Enterprise",
    )
    make_nullable(spec, "CreditCostInfo", "upgradePlanId")
    make_nullable(spec, "Model", "BackupModel", "backupModelId", "prompt", "logo")
    make_nullable(spec, "Enterprise", "modelUrl", "logo")
    for schema_name, body in schemas(spec).items():
        deprecated = [n for n, p in body.get("properties", {}).items() if p.get("deprecated")]
        if deprecated:
            make_optional(spec, schema_name, *deprecated)


def cut_relation_cycles(spec: Spec) -> None:
    """`CreditCostInfo.Plan` and `CreditCostInfo.UpgradePlan` are ORM relations back to
    plans that `planId`/`upgradePlanId` already identify; no upstream or documented
    example includes them. They are the only way from the response into the cycles
    Plan -> CreditCostInfo -> Plan, Plan <-> Model, Model -> BackupModel and
    Model <-> Enterprise, which make the response schema infinite: Prism's dynamic
    mode overflows its stack on it (stoplightio/prism#1456). Drop the two relations;
    a value sent anyway is kept in `additional_properties`. Plan, Model and Enterprise
    stay in the spec, recursive, and their generated models parse such nesting."""
    properties = schema(spec, "CreditCostInfo")["properties"]
    for name in ("Plan", "UpgradePlan"):
        if name not in properties:
            raise SpecError(f"CreditCostInfo.{name} not found")
        del properties[name]


def named_enums(spec: Spec) -> None:
    """Inline enums generate names like `AuthUserPlanDtoPeriod` and two classes for one
    billing period. `paymentPeriod`'s example 'monthly | yearly | bill' is an enum
    written as a sentence. Give each a named component schema. (Enums are open in the
    generated code: a value the spec does not list is kept, see the str_enum template.)"""
    schemas(spec)["BillingPeriod"] = {
        "type": "string",
        "description": "Billing period of a plan.",
        "enum": ["month", "day"],
    }
    schemas(spec)["BaseModelKind"] = {
        "type": "string",
        "description": "The generation backend a model runs on.",
        "enum": ["sdxl", "replicate"],
    }
    schemas(spec)["EditCountPeriod"] = {
        "type": "string",
        "description": "Period an edit count covers.",
        "enum": ["day", "month", "plan"],
    }
    schemas(spec)["PaymentPeriod"] = {
        "type": "string",
        "description": "Payment period of an enterprise contract.",
        "enum": ["monthly", "yearly", "bill"],
    }
    targets = {
        ("Plan", "period"): "BillingPeriod",
        ("AuthUserPlanDto", "period"): "BillingPeriod",
        ("Model", "name"): "BaseModelKind",
        ("Enterprise", "editCountPeriod"): "EditCountPeriod",
        ("Enterprise", "paymentPeriod"): "PaymentPeriod",
        ("AuthUserEnterpriseDto", "paymentPeriod"): "PaymentPeriod",
    }
    for (schema_name, name), target in targets.items():
        old = prop(spec, schema_name, name)
        new: dict[str, Any] = {
            "description": old.get("description", ""),
            "allOf": [{"$ref": f"#/components/schemas/{target}"}],
        }
        example = old.get("example")
        if example is not None:
            new["example"] = "monthly" if target == "PaymentPeriod" else example
        if old.get("deprecated"):
            new["deprecated"] = True
        schema(spec, schema_name)["properties"][name] = new


def error_envelope_schema(spec: Spec) -> None:
    """The `{success, code, data}` error envelope appears only as examples, with no
    schema, so nothing can parse it. Give it one (`ErrorEnvelope`, reasons as an open
    enum `ErrorReason`) and attach it to every error response."""
    schemas(spec)["ErrorReason"] = {
        "type": "string",
        "description": (
            "Why the request failed: wrong_api_key or api_key_expired (401), not_logged_in (403)."
        ),
        "enum": ["wrong_api_key", "api_key_expired", "not_logged_in"],
    }
    schemas(spec)["ErrorEnvelope"] = {
        "type": "object",
        "description": "Flamel's error body: the HTTP status and a reason.",
        "required": ["success", "code", "data"],
        "properties": {
            "success": {"type": "boolean", "description": "Always false for an error."},
            "code": {"type": "integer", "description": "The HTTP status code.", "example": 401},
            "data": {
                "description": "The reason.",
                "allOf": [{"$ref": "#/components/schemas/ErrorReason"}],
            },
        },
    }
    for status, response in operation(spec, "get", PATH)["responses"].items():
        if not str(status).startswith("2"):
            response["content"]["application/json"]["schema"] = {
                "$ref": "#/components/schemas/ErrorEnvelope"
            }


def english_descriptions(spec: Spec) -> None:
    """Property descriptions are Korean; IDE hover shows them (attribute docstrings).
    Replace each with its English translation from flamel_patch.yaml."""
    table: dict[str, str] = patch()["descriptions"]
    for schema_name, name, body in all_properties(spec):
        key = f"{schema_name}.{name}"
        if key in table:
            body["description"] = table[key]
        elif HANGUL.search(str(body.get("description", ""))):
            raise SpecError(
                f"{key} has a Korean description ({body['description']!r}) and no translation",
                file=PATCH_FILE,
                hint=f"add `{key}: <English text>` under `descriptions:` in this file",
                line=line_of(PATCH_FILE, "descriptions:"),
            )


def success_examples(spec: Spec) -> None:
    """The 200 response has a schema but no example; Prism and the demo need one.
    The examples (flamel_patch.yaml) follow upstream's property-level examples."""
    media = operation(spec, "get", PATH)["responses"]["200"]["content"]["application/json"]
    media["examples"] = patch()["success_examples"]


STEPS: list[Step] = [
    english_title,
    real_server_only,
    clean_operation,
    define_session_cookie,
    unslash_patterns,
    examples_match_types,
    free_form_objects,
    integer_ids_and_counts,
    optional_things_nullable,
    cut_relation_cycles,
    named_enums,
    error_envelope_schema,
    english_descriptions,
    success_examples,
]
