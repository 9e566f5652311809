"""hooks.wakeup.wait: the loop's sleep between cycles, ended by a NOTIFY on PostgreSQL (from any
connection, e.g. a gunicorn worker's) or by the stop event."""

import threading
import time

import pytest
from django.db import connection

from hooks import wakeup
from tests.commands import server_connection

pytestmark = pytest.mark.django_db(transaction=True)  # LISTEN hears only committed NOTIFYs


def notify_later(seconds):
    def send():
        time.sleep(seconds)
        other = server_connection(connection.settings_dict["NAME"])
        try:
            other.cursor().execute(f"NOTIFY {wakeup.CHANNEL}")
        finally:
            other.close()

    thread = threading.Thread(target=send)
    thread.start()
    return thread


@pytest.mark.postgres
def test_a_notify_from_another_connection_ends_the_wait_at_once():
    wakeup.wait(0.01, threading.Event())  # LISTENing from here on
    thread = notify_later(0.3)
    started = time.monotonic()
    assert wakeup.wait(5.0, threading.Event()) is True
    assert time.monotonic() - started < 2.0
    thread.join()


@pytest.mark.postgres
def test_after_a_reconnect_the_new_connection_listens_again():
    wakeup.wait(0.01, threading.Event())
    connection.close()
    wakeup.wait(0.01, threading.Event())  # a new connection: LISTEN again
    thread = notify_later(0.3)
    assert wakeup.wait(5.0, threading.Event()) is True
    thread.join()


@pytest.mark.postgres
def test_a_notify_sent_before_the_wait_is_not_lost():
    wakeup.wait(0.01, threading.Event())
    notify_later(0).join()
    time.sleep(0.1)
    assert wakeup.wait(5.0, threading.Event()) is True


def test_without_a_notification_it_sleeps_its_time_and_a_stop_ends_it():
    started = time.monotonic()
    assert wakeup.wait(0.3, threading.Event()) is False
    assert time.monotonic() - started >= 0.3
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    assert wakeup.wait(5.0, stop) is False
    assert time.monotonic() - started < 1.0
