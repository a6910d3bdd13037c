"""Shared fixtures: the real datasets (skip when absent) and the real database servers (skip with a
reason when their URL is not set; .ci/run sets them)."""

from __future__ import annotations

import os

import pytest

from anpr.lab.datasets import shared_datasets


@pytest.fixture(scope="session")
def datasets():
    root = shared_datasets()
    if root is None:
        pytest.skip("../shared/datasets is absent (set ANPR_DATASETS to its path)")
    return root


@pytest.fixture(scope="session")
def postgres_url():
    url = os.environ.get("ANPR_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("ANPR_TEST_POSTGRES_URL is not set (.ci/run sets it to the local PostgreSQL)")
    return url


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("ANPR_TEST_REDIS_URL")
    if not url:
        pytest.skip("ANPR_TEST_REDIS_URL is not set (.ci/run sets it to the local Redis)")
    return url
