"""Flamel's Plan, Model and Enterprise schemas refer to each other recursively; the
generated models parse such nesting and give it back unchanged."""

from __future__ import annotations

from typing import Any, TypeVar

from creditwatch.flamel import Unset
from creditwatch.flamel.models import BaseModelKind, Enterprise, Model, Plan

from _cases import normalized

T = TypeVar("T")


def _model(model_id: int, depth: int) -> dict[str, Any]:
    model: dict[str, Any] = {
        "modelId": model_id,
        "version": "1.0",
        "apiName": f"model-{model_id}",
        "isMainGeneration": model_id == 1,
        "ping": 2,
        "params": {"steps": 30},
        "example": {},
        "backupModelId": None,
        "errorCount": 0,
        "recoverCount": 0,
        "useBackup": False,
        "prompt": None,
        "needTranslate": True,
        "nameGlobal": {"en": "Model", "ko": "모델"},
        "descriptionGlobal": {"en": "A model"},
        "logo": None,
        "name": "sdxl",
    }
    if depth > 0:
        model["BackupModel"] = _model(model_id + 100, depth - 1)
        model["Plans"] = [_plan(model_id + 10, depth - 1)]
        model["Enterprises"] = [_enterprise(depth - 1)]
    return model


def _plan(plan_id: int, depth: int) -> dict[str, Any]:
    plan: dict[str, Any] = {
        "planId": plan_id,
        "grade": "pro",
        "historyPeriodMonth": 12,
        "minusCreditAllowed": 0,
        "maxStyleNumber": 10,
        "simultaneousLimit": 2,
        "maxMultiSelect": 4,
        "maxEditNumber": 100,
        "maxPromptNumber": 10,
        "period": "month",
        "title": {"en": "Pro"},
        "priceGlobal": {"en": {"price": 9.9, "price_dis": "$9.90", "currency": "USD"}},
        "premiumAvailable": True,
        "oneTimePayment": False,
        "enabled": True,
        "defaultCredit": 0,
        "dailyCredit": 10,
        "monthlyCredit": 200,
        "CreditCostInfo": [],
    }
    if depth > 0:
        plan["Models"] = [_model(plan_id * 2, depth - 1), _model(plan_id * 2 + 1, depth - 1)]
    return plan


def _enterprise(depth: int) -> dict[str, Any]:
    enterprise: dict[str, Any] = {
        "name": "Example Studio",
        "categories": "Parametric,Photo",
        "expiresAt": "2025-11-30T23:59:59+00:00",
        "monthlyCredit": 2000,
        "yearlyCredit": 20000,
        "amount": 119000,
        "currency": "KRW",
        "simultaneousLimit": 5,
        "maxEditNumber": 500,
        "editCountPeriod": "month",
        "paymentPeriod": "monthly",
        "postpaid": True,
        "modelUrl": None,
        "logo": None,
        "userId": 2048,
        "canUseOwnOnly": False,
        "hasSpecialLimits": False,
    }
    if depth > 0:
        enterprise["Models"] = [_model(900, depth - 1)]
    return enterprise


def test_plan_model_enterprise_nesting_round_trips() -> None:
    payload = _plan(1, depth=4)
    plan = Plan.from_dict(payload)
    assert normalized(plan.to_dict()) == normalized(payload)
    # The nesting is typed all the way down, not left as dicts.
    model = given(plan.models)[0]
    assert isinstance(model, Model)
    assert model.name is BaseModelKind.SDXL
    assert isinstance(given(given(model.plans)[0].models)[0], Model)
    enterprise = given(model.enterprises)[0]
    assert isinstance(enterprise, Enterprise)
    assert given(enterprise.models)[0].model_id == 900
    backup = given(model.backup_model)
    assert isinstance(backup, Model)
    assert isinstance(given(backup.backup_model), Model)


def given(value: T | Unset | None) -> T:
    """The value of an optional field that the payload sets."""
    assert value is not None
    assert not isinstance(value, Unset)
    return value
