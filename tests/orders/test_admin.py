"""The order admin: pages render, PINs stay masked for every user in every column and text, URL
lookups cannot tell a PIN apart, a bad filter value is never a server error, "check now" checks
at the (sandbox) provider."""

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orders.models import EventSource, ExternalStatus, Order, OrderEvent
from providers.models import Integration
from tests.admin_pages import admin_url, assert_nothing_of, filter_links, staff_user

PIN = "ABCD-EFGH-1234-5678"


def changelist():
    return admin_url(Order, "changelist")


def change_url(order):
    return admin_url(Order, "change", order.pk)


def history_url(order):
    return admin_url(Order, "history", order.pk)


def messages_of(html):
    found = re.search(r'<ul class="messagelist">.*?</ul>', html, flags=re.S)
    return found.group(0) if found else ""


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(params=["superuser", "viewer", "checker"])
def anyone(request, db, admin_user):
    """A client logged in as a superuser, as staff who may only view orders, and as staff who may
    also "check now" (the change permission)."""
    users = {
        "superuser": lambda: admin_user,
        "viewer": lambda: staff_user("viewer", {Order: ("view",)}),
        "checker": lambda: staff_user("checker", {Order: ("view", "change")}),
    }
    return logged_in(users[request.param]())


def check_now(client, *orders):
    return client.post(
        changelist(),
        {"action": "check_now", "_selected_action": [str(o.pk) for o in orders]},
        follow=True,
    )


@pytest.fixture
def completed_order(make_order):
    return make_order(external_status=ExternalStatus.DONE, pin_code=PIN, provider_message="İşlem başarılı")


def test_changelist_shows_orders_with_masked_pin(admin_client, completed_order):
    response = admin_client.get(changelist())

    assert response.status_code == 200
    html = response.content.decode()
    assert str(completed_order.pk) in html
    assert "****5678" in html
    assert PIN not in html


def test_change_page_shows_pin_masked(admin_client, completed_order):
    response = admin_client.get(change_url(completed_order))

    assert response.status_code == 200
    html = response.content.decode()
    assert "****5678" in html
    assert PIN not in html
    assert 'name="pin_code"' not in html


def test_changelist_filters_and_search(admin_client, make_order, integration):
    sent = make_order()
    processing = make_order(external_status=ExternalStatus.PROCESSING)

    by_status = admin_client.get(changelist(), {"external_status": "processing"}).content.decode()
    by_provider = admin_client.get(changelist(), {"integration": str(integration.pk)}).content.decode()
    by_reference = admin_client.get(changelist(), {"q": sent.provider_referans}).content.decode()
    by_id = admin_client.get(changelist(), {"q": str(processing.pk)}).content.decode()

    assert str(processing.pk) in by_status and str(sent.pk) not in by_status
    assert str(processing.pk) in by_provider and str(sent.pk) in by_provider
    assert str(sent.pk) in by_reference and str(processing.pk) not in by_reference
    assert str(processing.pk) in by_id and str(sent.pk) not in by_id


def test_check_now_completes_order_and_history_shows_it(admin_client, make_order, sandbox):
    order = make_order(outcome="completed", checks_until_final=1, pin=PIN)

    response = check_now(admin_client, order)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.DONE
    assert order.pin_code == PIN
    assert len(sandbox.status_checks(order.provider_referans)) == 1
    event = OrderEvent.objects.get(order=order)
    assert (event.from_status, event.to_status, event.source) == ("sent", "done", EventSource.MANUAL)
    html = response.content.decode()
    assert f"Order {order.pk}: completed" in html
    assert PIN not in html

    page = admin_client.get(change_url(order)).content.decode()
    assert "Manual" in page and "İşlem başarılı" in page
    assert PIN not in page


def test_check_now_of_a_long_pin_holds_the_order_and_shows_the_pin_masked(admin_client, make_order):
    long_pin = "LONGPIN-" + "9" * 140
    order = make_order(outcome="completed", checks_until_final=1, pin=long_pin)

    html = check_now(admin_client, order).content.decode()

    order.refresh_from_db()
    assert (order.external_status, order.pin_code, order.pin_code_full) == (ExternalStatus.SENT, None, long_pin)
    assert f"Order {order.pk}: held" in html and "does not fit" in html
    page = admin_client.get(change_url(order)).content.decode()
    assert "****9999 (held: too long for pinCode, in pin_code_full)" in page
    assert long_pin not in html + page


def test_check_now_reports_orders_that_cannot_be_checked(admin_client, completed_order, make_order):
    pending = make_order(outcome="completed", checks_until_final=3)

    response = check_now(admin_client, completed_order, pending)

    html = response.content.decode()
    assert f"{completed_order.pk} is already final" in html
    assert f"Order {pending.pk}: processing" in html
    assert Order.objects.get(pk=pending.pk).external_status == ExternalStatus.PROCESSING


def test_orders_cannot_be_edited_or_deleted_in_the_admin(admin_client, completed_order):
    response = admin_client.post(change_url(completed_order), {"external_status": "failed"})

    assert response.status_code == 403
    assert Order.objects.get(pk=completed_order.pk).external_status == ExternalStatus.DONE
    assert "delete_selected" not in admin_client.get(changelist()).content.decode()


def integration_url(integration):
    return admin_url(Integration, "change", integration.pk)


def row_of(html, order):
    """The changelist row (<tr>...</tr>) of one order."""
    rows = re.findall(r"<tr>.*?</tr>", html, flags=re.S)
    return next(row for row in rows if str(order.pk) in row)


def test_changelist_shows_the_integration_name_linked_not_its_id(admin_client, make_order, integration):
    order = make_order()
    orphan = Order.objects.create(external_status=ExternalStatus.SENT, integration_id="not-an-integration")

    html = admin_client.get(changelist()).content.decode()

    row = row_of(html, order)
    assert f'<a href="{integration_url(integration)}" title="{integration.pk}">znet sandbox</a>' in row
    assert f">{integration.pk}<" not in row
    assert "not-an-integration (no such integration)" in row_of(html, orphan)


def test_changelist_looks_integrations_up_once_per_page(admin_client, make_order, sandbox):
    def integration_with_order():
        other = Integration.objects.create(name="other", provider="znet", base_url=sandbox.base_url)
        make_order(integration_id=str(other.pk))

    def queries_of_changelist():
        with CaptureQueriesContext(connection) as captured:
            html = admin_client.get(changelist()).content.decode()
        return len(captured.captured_queries), html

    integration_with_order()
    queries_with_one, _ = queries_of_changelist()
    for _ in range(4):
        integration_with_order()
    queries_with_five, html = queries_of_changelist()

    assert html.count(">other</a>") == 5
    assert queries_with_five == queries_with_one


@time_machine.travel(datetime(2026, 11, 26, 7, 8, 10, tzinfo=UTC), tick=False)
def test_changelist_shows_sent_time_with_seconds_age_and_next_check(admin_client, make_order):
    sent = datetime(2026, 11, 26, 6, 21, 5, tzinfo=UTC)
    active = make_order(sent_at=sent, next_check_at=datetime(2026, 11, 26, 7, 9, 40, tzinfo=UTC))
    final = make_order(sent_at=sent, external_status=ExternalStatus.DONE, pin_code=PIN)
    never_checked = make_order(sent_at=sent - timedelta(days=1, hours=2))

    html = admin_client.get(changelist()).content.decode()

    row = row_of(html, active)
    assert "2026-11-26 06:21:05+00:00" in row
    assert "47 min 5 s" in row
    assert "2026-11-26 07:09:40+00:00" in row
    assert "none (final)" in row_of(html, final)
    assert "due now (never checked)" in row_of(html, never_checked)
    assert "1 d 2 h" in row_of(html, never_checked)


def test_changelist_shows_the_last_check_error_shortened(admin_client, make_order):
    error = "transport error: timed out: " + "x" * 150
    order = make_order(last_check_error=error)

    row = row_of(admin_client.get(changelist()).content.decode(), order)

    assert f'title="{error}"' in row
    assert error[:79] + "…</span>" in row


def test_changelist_filters_by_integration_and_check_error(admin_client, make_order, integration, sandbox):
    other = Integration.objects.create(name="apstore main", provider="apstore", base_url=sandbox.base_url)
    failing = make_order(last_check_error="provider error 8: Sistem yoğun")
    healthy = make_order()
    elsewhere = make_order(integration_id=str(other.pk))

    page = admin_client.get(changelist()).content.decode()
    with_error = admin_client.get(changelist(), {"check_error": "yes"}).content.decode()
    without_error = admin_client.get(changelist(), {"check_error": "no"}).content.decode()
    by_integration = admin_client.get(changelist(), {"integration": str(other.pk)}).content.decode()
    bad_value = admin_client.get(changelist(), {"integration": "foonet"})

    assert "By integration" in page and "apstore main (apstore)" in page and "By has a check error" in page
    assert str(failing.pk) in with_error and str(healthy.pk) not in with_error
    assert str(healthy.pk) in without_error and str(failing.pk) not in without_error
    assert str(elsewhere.pk) in by_integration and str(failing.pk) not in by_integration
    assert bad_value.status_code == 200 and str(failing.pk) not in bad_value.content.decode()


@time_machine.travel(datetime(2026, 11, 26, 7, 8, 10, tzinfo=UTC), tick=False)
def test_change_page_shows_integration_times_with_seconds_and_final_next_check(
    admin_client, completed_order, integration
):
    Order.objects.filter(pk=completed_order.pk).update(
        sent_at=datetime(2026, 11, 26, 6, 21, 5, tzinfo=UTC), completed_at=datetime(2026, 11, 26, 6, 25, 59, tzinfo=UTC)
    )

    html = admin_client.get(change_url(completed_order)).content.decode()

    assert f'href="{integration_url(integration)}"' in html and "znet sandbox" in html
    assert "2026-11-26 06:21:05+00:00" in html and "2026-11-26 06:25:59+00:00" in html
    assert "none (final)" in html
    assert "****5678" in html and PIN not in html


def test_check_now_checks_at_most_the_limit_per_click(admin_client, make_order, sandbox, settings):
    settings.MONITOR_ADMIN_CHECK_LIMIT = 2
    orders = [make_order() for _ in range(3)]

    html = check_now(admin_client, *orders).content.decode()

    assert "Checked 2 of 3 selected orders (at most 2 per click, 10 s). 1 not checked: select them again." in html
    assert len(sandbox.status_checks()) == 2
    assert Order.objects.filter(pk__in=[o.pk for o in orders], external_status="done").count() == 2


def test_check_now_stops_at_its_deadline_when_a_provider_hangs(admin_client, make_order, sandbox, settings):
    """A provider that answers after 3 s, a read timeout of 20 s: the click's 1 s deadline cuts
    the request and starts no other one."""
    settings.MONITOR_ADMIN_CHECK_SECONDS = 1
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 20
    sandbox.config.slow_seconds = 3
    waiting = make_order()
    hanging = make_order()  # the newest order is first on the page, and checked first
    sandbox.queue_fault("slow", reference=hanging.provider_referans)

    html = check_now(admin_client, waiting, hanging).content.decode()

    assert "Checked 1 of 2 selected orders (at most 5 per click, 1 s). 1 not checked: select them again." in html
    assert [entry["referans"] for entry in sandbox.status_checks()] == [hanging.provider_referans]
    hanging.refresh_from_db()
    assert hanging.last_check_error.startswith("transport error: timed out")
    assert Order.objects.get(pk=waiting.pk).check_attempts == 0


# -- PINs only masked, everywhere, for everyone ------------------------------------------------

HELD_PIN = "HELDPIN-" + "7" * 130 + "-4242"


@pytest.fixture
def orders_with_pins(make_order, admin_client):
    """A completed order whose PIN also stands in its texts, one "checked now" (history with a
    change message), and one held with its PIN in pin_code_full."""
    completed = make_order(
        external_status=ExternalStatus.COMPLETED,
        pin_code=PIN,
        provider_message=f"Kodunuz: {PIN} teslim edildi",
        last_message=f"pin={PIN}",
        last_check_error=f"malformed: malformed answer: 'OK|2|{PIN}|x\\n'",
    )
    OrderEvent.objects.create(
        order=completed, from_status="sent", to_status="completed", source=EventSource.RUN, message=f"PIN {PIN}"
    )
    checked = make_order(outcome="completed", checks_until_final=1, pin="CHCK-NOWW-9911-2468")
    check_now(admin_client, checked)
    held = make_order(
        pin_code_full=HELD_PIN,
        hold_reason=f"the PIN does not fit pinCode: {HELD_PIN}",
        last_check_error="the PIN does not fit; kept whole in pin_code_full",
    )
    return completed, checked, held


@pytest.mark.parametrize(
    "page",
    [
        lambda orders: changelist(),
        lambda orders: change_url(orders[0]),
        lambda orders: change_url(orders[1]),
        lambda orders: change_url(orders[2]),
        lambda orders: history_url(orders[1]),
    ],
    ids=["list", "completed", "checked", "held", "history"],
)
def test_no_page_shows_an_unmasked_pin(anyone, orders_with_pins, page):
    response = anyone.get(page(orders_with_pins))

    assert response.status_code == 200
    html = response.content.decode()
    assert_nothing_of(html, PIN, "CHCK-NOWW-9911-2468", HELD_PIN)


def test_texts_show_the_orders_pin_masked(admin_client, orders_with_pins):
    completed, checked, held = orders_with_pins

    page = admin_client.get(change_url(completed)).content.decode()
    held_page = admin_client.get(change_url(held)).content.decode()
    history = admin_client.get(history_url(checked)).content.decode()

    assert "Kodunuz: ****5678 teslim edildi" in page
    assert "pin=****5678" in page and "OK|2|****5678|" in page and "PIN ****5678" in page
    assert "the PIN does not fit pinCode: ****4242" in held_page  # hold_reason, read-only
    assert "Checked now: completed" in history


@pytest.mark.parametrize(
    "lookup,matching,not_matching",
    [
        ("pin_code__startswith", PIN[:4], "ZZZZ"),
        ("pin_code_full__startswith", HELD_PIN[:8], "NOTAPIN-"),
        ("pin_code", PIN, "other"),
        ("pin_code__regex", "^ABCD", "["),
        ("pin_code__isnull", "False", "True"),
        ("events__message__contains", PIN[:4], "ZZZZ"),
        ("provider_message__contains", "Kodunuz", "nothing"),
        ("external_order_id__regex", ".*", "("),
    ],
)
def test_a_lookup_the_filters_do_not_offer_is_refused_for_any_value(
    anyone, orders_with_pins, lookup, matching, not_matching
):
    """The oracle of the issue: with the order's id, a prefix that matches and one that does not
    must give the same answer."""
    completed = orders_with_pins[0]

    hit = anyone.get(changelist(), {"id": str(completed.pk), lookup: matching})
    miss = anyone.get(changelist(), {"id": str(completed.pk), lookup: not_matching})
    alone = anyone.get(changelist(), {lookup: matching})

    assert (hit.status_code, miss.status_code, alone.status_code) == (400, 400, 400)
    assert hit.content == miss.content == alone.content
    assert_nothing_of(hit.content.decode(), PIN, HELD_PIN)


def test_a_refused_lookup_is_one_warning_without_its_value(admin_client, admin_user, orders_with_pins, caplog):
    with caplog.at_level(logging.WARNING):
        admin_client.get(changelist(), {"pin_code__startswith": PIN[:6]})

    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no error report per probe
    ours = [r.getMessage() for r in caplog.records if r.name == "providers.admin_lookups"]
    assert ours == [f"admin list of order, user {admin_user.pk}: Filtering by pin_code__startswith not allowed"]
    assert PIN[:6] not in caplog.text


def test_search_never_matches_inside_a_pin(anyone, orders_with_pins):
    completed = orders_with_pins[0]

    for term in (PIN, PIN[:9], HELD_PIN):
        assert str(completed.pk) not in anyone.get(changelist(), {"q": term}).content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"integration": "x\x00"},
        {"external_status": "sent\x00"},
        {"tenant_id": "not-a-uuid"},
        {"check_error": "yes\x00"},
        {"q": "ref\x00"},
        {"external_status__isnull": "maybe"},
    ],
    ids=["integration-nul", "status-nul", "tenant", "check-error", "search", "isnull"],
)
def test_a_bad_filter_value_is_the_admins_own_answer_not_a_500(anyone, make_order, params):
    """On PostgreSQL a NUL character is refused by the driver; the same test runs on both."""
    make_order()

    response = anyone.get(changelist(), params)

    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"].endswith("?e=1")
    assert anyone.get(changelist()).status_code == 200  # the connection is still usable


def test_check_now_says_what_went_wrong_in_the_monitors_words(admin_client, make_order, sandbox):
    order = make_order()
    sandbox.queue_fault("error_line", reference=order.provider_referans)

    html = check_now(admin_client, order).content.decode()

    assert f"Order {order.pk}: error (externalStatus=sent, provider error 8)" in messages_of(html)
    assert "Sistem yoğun" not in messages_of(html)
    order.refresh_from_db()
    assert order.last_check_error.startswith("provider error 8: Sistem yoğun")  # the order's page has it


def test_check_now_is_not_offered_to_who_may_only_view(make_order, db):
    order = make_order()
    viewer = logged_in(staff_user("viewer", {Order: ("view",)}))

    assert "check_now" not in viewer.get(changelist()).content.decode()
    assert check_now(viewer, order).status_code == 200  # the list again, nothing done
    assert Order.objects.get(pk=order.pk).check_attempts == 0


def test_every_link_the_list_offers_is_accepted(admin_client, make_order, integration):
    make_order(tenant_id="6f1c2b0a-3d4e-4f56-8a9b-0c1d2e3f4a5b", last_check_error="provider error 8: x")
    make_order(external_status=ExternalStatus.PROCESSING)

    html = admin_client.get(changelist(), {"_facets": "1"}).content.decode()
    links = filter_links(html)

    assert any("integration=" in link for link in links) and any("tenant_id=" in link for link in links)
    assert any("check_error=yes" in link for link in links)
    for link in links:
        assert admin_client.get(changelist() + link).status_code == 200, link
