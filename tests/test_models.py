"""The generated models' behaviour that the generator's templates promise (issues #10
and #12): checked field types with the field path in the error, exact field types,
field names, unknown fields and open enums kept, models loaded on first use.

Bodies are the documented examples (generated/examples.json, from specs/) with one
change each; expectations come from the specs and the issues, not from the code.
"""

from __future__ import annotations

import copy
import datetime
import importlib
import inspect
import json
import subprocess
import sys
import typing
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import attrs
import creditwatch
import httpx
import pytest
from creditwatch.flamel.models import CreditCostInfo
from creditwatch.generect.models import User as GenerectUser
from creditwatch.llmgenerator.models import CreditTransaction, SubscriptionStatus

from _bodies import BASE_URL, Op, Served, call, client_operations
from _cases import CASES, EXAMPLES
from conftest import PROVIDERS, credentials


def flamel_body() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES["flamel"]["getMyInfo"]["responses"]["200"]["EnterpriseAccount"])


def serve(provider: str, body: Any, method: str | None = None, path: str | None = None) -> Any:
    """Call a provider's main method (or `method`) with `body` as the 200 answer."""
    case = CASES[provider]
    handler = Served({path or case.path: (200, _json(body))})
    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as http,
        case.module.Client(
            **credentials(provider), base_url=BASE_URL, max_retries=0, http_client=http
        ) as client,
    ):
        return getattr(client, method or case.method)()


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


# -- checked types: the error names the path ------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("Plan", "defaultCredit", "400"), 'Plan.defaultCredit: expected number, got string "400"'),
        (("Plan", "planId", True), "Plan.planId: expected integer, got boolean true"),
        (("Plan", "planId", 4.5), "Plan.planId: expected integer, got number 4.5"),
        (("userId", None, "x"), 'userId: expected integer, got string "x"'),
        (("email", None, None), "email: expected string, got null"),
        (("notifyAgree", None, 1), "notifyAgree: expected boolean, got integer 1"),
        (("createdAt", None, "yesterday"), 'createdAt: expected date-time, got string "yesterday"'),
        (("EnterpriseDownload", None, {}), "EnterpriseDownload: expected array, got object"),
        (("Enterprise", "expiresAt", 5), "Enterprise.expiresAt: expected date-time, got integer 5"),
        (("Plan", "period", 7), "Plan.period: expected string, got integer 7"),
    ],
)
def test_a_wrong_type_names_the_field_path(change: tuple[str, Any, Any], message: str) -> None:
    body = flamel_body()
    key, inner, value = change
    if inner is None:
        body[key] = value
    else:
        body[key][inner] = value
    with pytest.raises(creditwatch.APIResponseValidationError) as caught:
        serve("flamel", body)
    assert str(caught.value) == f"Flamel 200: the body does not match the spec: {message}"
    assert caught.value.body == _json(body).decode()  # the raw body is kept


def test_a_wrong_type_in_a_list_names_the_index() -> None:
    body = flamel_body()
    body["Plan"]["CreditCostInfo"].append(dict(body["Plan"]["CreditCostInfo"][0], credit="1"))
    with pytest.raises(creditwatch.APIResponseValidationError) as caught:
        serve("flamel", body)
    assert 'Plan.CreditCostInfo[1].credit: expected number, got string "1"' in str(caught.value)


def test_a_missing_nested_field_names_its_parent() -> None:
    body = flamel_body()
    del body["Plan"]["grade"]
    with pytest.raises(creditwatch.APIResponseValidationError) as caught:
        serve("flamel", body)
    assert str(caught.value).endswith("Plan: required field 'grade' is missing")


def test_balance_on_a_string_credit_is_a_validation_error() -> None:
    """The issue's example: a TypeError from the balance arithmetic, before."""
    body = flamel_body()
    body["defaultCredit"] = "400"
    with pytest.raises(creditwatch.APIResponseValidationError) as caught:
        serve("flamel", body, "balance")
    assert 'defaultCredit: expected number, got string "400"' in str(caught.value)


def test_a_number_without_fraction_is_an_integer() -> None:
    """JSON Schema counts 5.0 as an integer; the model holds the int."""
    body = flamel_body()
    body["userId"] = 2048.0
    user = serve("flamel", body)
    assert user.user_id == 2048
    assert type(user.user_id) is int


def test_an_integer_is_a_number() -> None:
    examples = EXAMPLES["llmgenerator"]["getCreditBalanceWithApiKey"]
    credits = copy.deepcopy(examples["responses"]["200"]["creditBalance"])
    assert isinstance(credits["totalPurchased"], int)  # `number` in the spec
    parsed = serve("llmgenerator", credits, "get_credit_balance", examples["path"])
    assert parsed.total_purchased == credits["totalPurchased"]


# -- unknown fields and open enums ----------------------------------------------------------


def test_unknown_fields_are_kept_at_every_level_and_round_trip() -> None:
    body = flamel_body()
    body["brandNew"] = {"nested": [1, 2]}
    body["Plan"]["CreditCostInfo"][0]["extra"] = "kept"
    user = serve("flamel", body)
    assert user.additional_properties == {"brandNew": {"nested": [1, 2]}}
    assert user.plan.credit_cost_info[0]["extra"] == "kept"
    assert user.to_dict()["brandNew"] == {"nested": [1, 2]}
    assert user.to_dict()["Plan"]["CreditCostInfo"][0]["extra"] == "kept"
    assert serve("flamel", flamel_body()).additional_properties == {}


def test_open_enum_keeps_an_unknown_value() -> None:
    body = copy.deepcopy(
        EXAMPLES["llmgenerator"]["getCurrentSubscription"]["responses"]["200"]["activeSubscription"]
    )
    body["subscription"]["status"] = "paused"
    result = serve("llmgenerator", body)
    status = result.subscription.status
    assert isinstance(status, SubscriptionStatus)
    assert status.value == "paused"
    assert not status.is_known
    body["subscription"]["status"] = "active"
    assert serve("llmgenerator", body).subscription.status is SubscriptionStatus.ACTIVE


# -- exact field types ------------------------------------------------------------------------


def test_generect_last_password_changed_is_a_naive_datetime() -> None:
    user = serve("generect", CASES["generect"].example())
    assert isinstance(user, GenerectUser)
    example = CASES["generect"].example()["last_password_changed"]
    assert user.last_password_changed == datetime.datetime.fromisoformat(example)
    assert user.last_password_changed.tzinfo is None  # the provider does not say which zone
    assert user.to_dict()["last_password_changed"] == example
    source = inspect.getsource(GenerectUser)
    declaration = source.split("    last_password_changed: datetime.datetime\n", 1)[1]
    assert "A naive datetime" in declaration.split("\n", 1)[0]  # its docstring says so


def test_exorde_zone_less_timestamps_are_utc() -> None:
    """Exorde documents its timestamps as UTC "without timezone"."""
    body = CASES["exorde"].example()
    body["user"]["createdAt"] = "2023-09-14T08:21:37.000"
    user = serve("exorde", body)
    assert user.created_at == datetime.datetime(2023, 9, 14, 8, 21, 37, tzinfo=datetime.UTC)


def test_every_timestamp_field_is_a_datetime() -> None:
    """No field whose documented example is a date-time is typed `str`."""
    for provider, model, field in [
        ("flamel", "AuthUserDto", "created_at"),
        ("exorde", "User", "updated_at"),
        ("generect", "User", "last_password_changed"),
        ("easyslip", "MeData", "expired_at"),
        ("llmgenerator", "Subscription", "current_period_end"),
        ("llmgenerator", "CreditTransaction", "created_at"),
    ]:
        cls = getattr(getattr(creditwatch, provider).models, model)
        hint = typing.get_type_hints(cls)[field]
        assert datetime.datetime in (hint, *typing.get_args(hint)), (provider, model, hint)


# -- field names --------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [CreditCostInfo, CreditTransaction])
def test_type_field_is_named_type_and_type_underscore_is_deprecated(cls: type[Any]) -> None:
    assert "type" in cls.__annotations__
    instance: Any = object.__new__(cls)
    instance.type = "x"
    with pytest.warns(DeprecationWarning, match=rf"{cls.__name__}\.type_ is deprecated"):
        assert instance.type_ == "x"
    with pytest.warns(DeprecationWarning):
        instance.type_ = "y"
    assert instance.type == "y"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert instance.type == "y"  # the new name does not warn


def test_the_old_constructor_keyword_still_works_with_a_warning() -> None:
    fields: dict[str, Any] = {
        "credit_cost_info_id": 1,
        "plan_id": 2,
        "upgrade_plan_id": None,
        "credit": 1.0,
        "watermarked": False,
        "need_upgrade": False,
        "featured": True,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CreditCostInfo(type="edit", **fields).type == "edit"
    with pytest.warns(DeprecationWarning, match=r"CreditCostInfo\(type_=\.\.\.\) is deprecated"):
        old = CreditCostInfo(type_="edit", **fields)  # type: ignore[call-arg]
    assert old == CreditCostInfo(type="edit", **fields)
    assert "type" in inspect.signature(CreditCostInfo).parameters  # what IDEs show


def test_flamel_credit_cost_type_from_a_body() -> None:
    user = serve("flamel", flamel_body())
    entry = user.plan.credit_cost_info[0]
    assert entry.type == flamel_body()["Plan"]["CreditCostInfo"][0]["type"]


# -- import cost ---------------------------------------------------------------------------------


def test_models_load_on_first_use() -> None:
    """Importing a provider's models package loads no model module; using a name loads
    that model and what it refers to; `dir()` and `__all__` still list every model."""
    code = (
        "import sys\n"
        "import creditwatch._generated.flamel.models as models\n"
        "loaded = lambda: sorted(m for m in sys.modules if '.flamel.models.' in m)\n"
        "assert loaded() == [], loaded()\n"
        "from creditwatch._generated.flamel.models import AuthUserDto\n"
        "assert 'creditwatch._generated.flamel.models.plan' not in loaded(), loaded()\n"
        "assert 'creditwatch._generated.flamel.models.auth_user_plan_dto' in loaded()\n"
        "assert {'Plan', 'AuthUserDto'} <= set(dir(models)) and 'Plan' in models.__all__\n"
        "assert models.Plan.__name__ == 'Plan'\n"
        "try:\n    models.NoSuchModel\nexcept AttributeError:\n    pass\n"
        "else:\n    raise AssertionError('a missing name must raise AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def _documents_an_error_body(provider: str) -> bool:
    return any(
        int(status) >= 400 and any(named.values())
        for op in EXAMPLES[provider].values()
        for status, named in op["responses"].items()
    )


@pytest.mark.parametrize("provider", [p for p in CASES if _documents_an_error_body(p)])
def test_error_models_load_with_the_first_error(provider: str) -> None:
    """A provider's import and client (what its first call needs) load no error model;
    decoding a documented error body loads it, and the body's message comes through."""
    code = (
        "import importlib.resources, json, sys\n"
        "from creditwatch._base import load_profile\n"
        f"import creditwatch.{provider}\n"
        f"creditwatch.{provider}.Client(**{credentials(provider)!r}, base_url='http://127.0.0.1:9')\n"
        f"prefix = 'creditwatch._generated.{provider}.models.'\n"
        "loaded = lambda: sorted(m for m in sys.modules if m.startswith(prefix) and 'error' in m)\n"
        "assert loaded() == [], loaded()\n"
        "examples = json.loads((importlib.resources.files('creditwatch._generated')"
        " / 'examples.json').read_text(encoding='utf-8'))\n"
        f"bodies = [(int(status), b) for op in examples['{provider}'].values()"
        " for status, named in op['responses'].items() if int(status) >= 400"
        " for b in named.values() if b]\n"
        f"info = load_profile('{provider}').decode_error(bodies[0][1], bodies[0][0])\n"
        "assert info.message or info.request_id, info\n"
        "assert loaded() != [], 'decoding an error loaded no error model'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- every model class the examples reach (mutation testing, issue 21) --------------------


def _models_in(value: Any, found: dict[type[Any], Any]) -> None:
    """Every generated model instance inside a parsed result, one per class."""
    if attrs.has(type(value)) and hasattr(type(value), "from_dict"):
        found.setdefault(type(value), value)
        for field in attrs.fields(type(value)):
            _models_in(getattr(value, field.name), found)
    elif isinstance(value, list | tuple):
        for item in value:
            _models_in(item, found)


def _reached_models() -> dict[type[Any], Any]:
    found: dict[type[Any], Any] = {}
    for op in client_operations():
        example = EXAMPLES[op.provider][op.operation_id]["responses"]["200"]
        body = next(iter(example.values()))
        routes = {urlsplit(BASE_URL).path + op.path: (200, json.dumps(body).encode())}
        _models_in(call(op, "sync", routes), found)
    return found


def _json_objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _json_objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_objects(item)


def _error_models() -> dict[type[Any], Any]:
    """The models only error bodies reach: each provider's model classes that parse a
    documented non-200 example (or an object inside one) exactly, no unknown field."""
    found: dict[type[Any], Any] = {}
    for provider in PROVIDERS:
        package = importlib.import_module(f"creditwatch._generated.{provider}.models")
        bodies = [
            body
            for operation in EXAMPLES[provider].values()
            for status, examples in operation["responses"].items()
            if status != "200"
            for body in examples.values()
        ]
        for name in package.__all__:
            cls = getattr(package, name)
            if not attrs.has(cls) or not hasattr(cls, "from_dict"):
                continue
            for candidate in (o for body in bodies for o in _json_objects(body)):
                try:
                    parsed = cls.from_dict(candidate)
                except ValueError:
                    continue
                if not parsed.additional_properties:
                    found.setdefault(cls, parsed)
                    break
    return found


REACHED = {**_error_models(), **_reached_models()}


def test_the_examples_reach_models_of_every_provider() -> None:
    modules = {cls.__module__.split(".")[2] for cls in REACHED}
    assert modules == set(PROVIDERS)


@pytest.mark.parametrize(
    "cls", list(REACHED), ids=lambda c: f"{c.__module__.split('.')[2]}.{c.__name__}"
)
def test_each_model_keeps_unknown_fields_and_names_missing_ones(cls: type[Any]) -> None:
    """The checked-parse template's promises, model by model: unknown fields kept (also
    when the known ones are all there), a missing required field named in a ValueError,
    anything but an object refused with a ValueError."""
    known = REACHED[cls].to_dict()
    assert cls.from_dict(known).to_dict() == known
    extended = cls.from_dict({**known, "zzNotInTheSpec": [1]})
    assert extended.additional_properties["zzNotInTheSpec"] == [1]
    assert extended.to_dict() == {**known, "zzNotInTheSpec": [1]}
    for key in known:
        without = {k: v for k, v in known.items() if k != key}
        try:
            cls.from_dict(without)
        except ValueError as exc:  # a required field: its JSON name is in the message
            assert key in str(exc), (key, str(exc))
        else:  # an optional one: unknown fields are still kept without it
            fewer = cls.from_dict({**without, "zzNotInTheSpec": [1]})
            assert fewer.additional_properties["zzNotInTheSpec"] == [1]
    not_objects: list[Any] = [[], "text", 1, None]
    for not_an_object in not_objects:
        with pytest.raises(ValueError):
            cls.from_dict(not_an_object)


def test_a_deprecated_alias_warns_at_the_callers_line() -> None:
    transaction = CreditTransaction.from_dict(REACHED[CreditTransaction].to_dict())
    with pytest.warns(DeprecationWarning) as read:
        kind = transaction.type_
    with pytest.warns(DeprecationWarning) as written:
        transaction.type_ = kind
    assert [w.filename for w in (*read, *written)] == [__file__, __file__]


def test_open_enum_field_of_a_list_item_keeps_an_unknown_value() -> None:
    known = REACHED[CreditTransaction].to_dict()
    listed = CreditTransaction.from_dict(known).type
    unknown = CreditTransaction.from_dict({**known, "type": "zzGift"}).type
    assert listed.is_known and listed.value == known["type"]
    assert not unknown.is_known and unknown.value == "zzGift"


def _shape(value: Any) -> Any:
    """A JSON value's keys and list lengths, every scalar the same."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return "scalar"


@pytest.mark.parametrize("op", client_operations(), ids=lambda op: op.label)
def test_to_dict_gives_back_every_field_and_list_item(op: Op) -> None:
    example = EXAMPLES[op.provider][op.operation_id]["responses"]["200"]
    body = next(iter(example.values()))
    routes = {urlsplit(BASE_URL).path + op.path: (200, json.dumps(body).encode())}
    result = call(op, "sync", routes)
    if not hasattr(result, "to_dict"):
        pytest.skip(f"{op.label} returns {type(result).__name__}")
    assert _shape(result.to_dict()) == _shape(op.unwrap(body))
