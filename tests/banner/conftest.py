"""The two West statements, parsed once, and their banners."""

from __future__ import annotations

import functools

import pytest

from charter.banner.view import BannerView, build
from charter.policy.loader import load
from charter.policy.schema import Statement
from tests.conftest import EXAMPLES


@functools.cache
def statement(name: str) -> Statement:
    return load((EXAMPLES / name).read_text(), source=name).statement


@pytest.fixture
def st2019() -> Statement:
    return statement("statement-2019.yaml")


@pytest.fixture
def st2023() -> Statement:
    return statement("statement-2023.yaml")


@pytest.fixture
def v2019(st2019: Statement) -> BannerView:
    return build(st2019)


@pytest.fixture
def v2023(st2023: Statement) -> BannerView:
    return build(st2023)
