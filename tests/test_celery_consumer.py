"""The worker's consumer (compliance_hub/celery_consumer.py): the broken connection's close may
fail on its detached transport without ending the worker; any other failure still surfaces.
The whole behaviour, with a real worker and Redis stopped under it, is a drill in tests/faults."""

from __future__ import annotations

import logging

import pytest
from celery.worker.consumer import Consumer as CeleryConsumer

from compliance_hub.celery import app
from compliance_hub.celery_consumer import Consumer, _tolerant


def test_the_worker_runs_our_consumer():
    from celery.utils.imports import symbol_by_name

    consumer = symbol_by_name(app.conf.worker_consumer)
    assert consumer is Consumer and issubclass(consumer, CeleryConsumer)


def test_a_close_that_needs_the_detached_transport_is_logged_not_raised(caplog):
    calls = []

    def close():
        calls.append("close")
        raise AttributeError("'NoneType' object has no attribute 'hostname'")

    with caplog.at_level(logging.WARNING, logger="compliance_hub.celery_consumer"):
        assert _tolerant(close)() is None
    assert calls == ["close"]
    assert "visibility timeout" in caplog.text


def test_a_close_that_succeeds_or_fails_otherwise_is_untouched():
    assert _tolerant(lambda: "closed")() == "closed"

    def close():
        raise ConnectionError("refused")

    with pytest.raises(ConnectionError):
        _tolerant(close)()
