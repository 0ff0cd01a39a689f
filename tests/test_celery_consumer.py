"""The worker's consumer (compliance_hub/celery_consumer.py), against the tests' real Redis: after
Celery's reconnect path has collected a broken connection, a message that connection delivered
can still be acknowledged (Celery 5.7 alone exits the worker there). The whole behaviour, with a
real worker and Redis stopped under it, is a drill in tests/faults."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from celery.utils.imports import symbol_by_name
from celery.worker.consumer import Consumer as CeleryConsumer
from django.conf import settings
from kombu import Connection, Queue
from kombu.message import Message

from compliance_hub.celery import app
from compliance_hub.celery_consumer import Consumer, keep_the_address


@pytest.fixture
def broker() -> Iterator[Connection]:
    connection = Connection(settings.CELERY_BROKER_URL)
    try:
        yield connection
    finally:
        connection.release()


def _deliver_one(connection: Connection) -> tuple[Message, str]:
    """One message received and held unacknowledged, as a worker holds a running task's."""
    name = f"consumer-test-{uuid.uuid4().hex}"
    queue = Queue(name, routing_key=name)
    with connection.Producer() as producer:
        producer.publish({"n": 1}, routing_key=name, declare=[queue], serializer="json")
    received: list[Message] = []
    consumer = connection.Consumer([queue], accept=["json"])
    consumer.register_callback(lambda _body, message: received.append(message))
    consumer.consume()
    connection.drain_events(timeout=10)
    assert len(received) == 1
    return received[0], name


def _unacked_tags() -> set[bytes]:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        return set(client.hkeys("unacked"))
    finally:
        client.close()


def test_the_worker_runs_our_consumer():
    consumer = symbol_by_name(app.conf.worker_consumer)
    assert consumer is Consumer and issubclass(consumer, CeleryConsumer)


def test_a_collected_connection_keeps_its_address_and_its_message_is_acknowledged(
    broker: Connection,
):
    message, _ = _deliver_one(broker)
    transport = broker.transport
    keep_the_address(broker)
    broker.collect()  # what Celery's reconnect path does to the broken connection first
    assert transport.client is broker
    message.ack()
    assert message.delivery_tag.encode() not in _unacked_tags()
    broker.release()  # then Celery closes it: no error either


def test_without_it_kombu_detaches_the_address_on_collect(broker: Connection):
    """What the workaround is for: a channel of the collected connection that must open a new
    Redis client (its pool dropped when Redis went away) reads the address from here and
    fails. When this test fails, kombu keeps the address by itself and
    compliance_hub/celery_consumer.py can go."""
    _deliver_one(broker)
    transport = broker.transport
    broker.collect()
    assert transport.client is None
