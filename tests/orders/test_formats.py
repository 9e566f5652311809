"""How times and integrations are written for people, the same in monitor_health's sections and
the admin."""

from datetime import timedelta

from django.test import override_settings

from orders.formats import format_age, integration_label, local_iso


def test_an_integration_is_its_name_and_id():
    assert integration_label("znet-main", "7") == "znet-main (7)"


def test_an_id_no_integration_has_is_said_so():
    assert integration_label(None, "42") == "42 (no such integration)"
    assert integration_label("", "42") == "42 (no such integration)"


def test_an_order_without_a_provider_id_says_so():
    assert integration_label(None, None) == "(no provider)"


@override_settings(TIME_ZONE="Europe/Istanbul")
def test_a_stored_time_is_shown_in_local_time_to_the_second():
    assert local_iso("2026-11-26T06:21:05.123456+00:00") == "2026-11-26T09:21:05+03:00"


def test_an_age_is_written_in_its_two_largest_units():
    assert format_age(timedelta(seconds=42)) == "42 s"
    assert format_age(timedelta(minutes=47, seconds=5)) == "47 min 5 s"
    assert format_age(timedelta(hours=3, minutes=12, seconds=9)) == "3 h 12 min"
    assert format_age(timedelta(days=2, hours=4, minutes=1)) == "2 d 4 h"
    assert format_age(timedelta(seconds=-5)) == "0 s"
