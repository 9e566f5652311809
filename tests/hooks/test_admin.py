"""Webhook settings in the admin: the secret is write-only (no page renders it, for any user),
a blank field keeps it, the history names the field only, no lookup touches it."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from hooks.models import WebhookSetting
from tests.admin_pages import admin_url, assert_nothing_of, staff_user
from tests.hooks.helpers import SECRET, internal_with_webhook

NEW_SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"


@pytest.fixture
def setting(db):
    return WebhookSetting.objects.get(pk=internal_with_webhook().pk)


@pytest.fixture(params=["superuser", "viewer"])
def anyone(request, db, admin_user):
    user = admin_user if request.param == "superuser" else staff_user("viewer", {WebhookSetting: ("view",)})
    client = Client()
    client.force_login(user)
    return client


def change_url(setting):
    return admin_url(WebhookSetting, "change", setting.pk)


def form(setting, **values):
    return {"integration_id": str(setting.pk), "enabled": "on", "secret": "", **values}


@pytest.mark.parametrize(
    "page",
    [
        lambda s: admin_url(WebhookSetting, "changelist"),
        change_url,
        lambda s: admin_url(WebhookSetting, "history", s.pk),
    ],
    ids=["list", "change", "history"],
)
def test_no_page_shows_the_secret_only_the_credentials_summary(anyone, setting, page):
    url = page(setting)
    html = anyone.get(url).content.decode()
    assert_nothing_of(html, SECRET, SECRET[-8:])
    if "history" not in url:  # the list and the change page give the summary
        assert f"set, ends in {SECRET[-2:]}" in html
    if page is change_url:
        assert f"/hooks/internal/{setting.pk}/" in html


def test_a_setting_without_a_secret_says_not_set(admin_client, setting):
    WebhookSetting.objects.filter(pk=setting.pk).update(secret="")
    html = admin_client.get(admin_url(WebhookSetting, "changelist")).content.decode()
    assert "not set" in html and "ends in" not in html


def test_saving_a_secret_logs_nothing_of_it(admin_client, setting, caplog):
    caplog.set_level("DEBUG")
    assert admin_client.post(change_url(setting), form(setting, secret=NEW_SECRET)).status_code == 302
    assert_nothing_of(caplog.text, NEW_SECRET, NEW_SECRET[-8:], SECRET, SECRET[-8:])


def test_a_blank_secret_keeps_the_stored_one_and_is_no_change(admin_client, setting):
    assert admin_client.post(change_url(setting), form(setting)).status_code == 302
    setting.refresh_from_db()
    assert setting.secret == SECRET
    entry = LogEntry.objects.get(object_id=str(setting.pk))
    assert "secret" not in entry.get_change_message().lower()


def test_a_new_secret_is_stored_and_the_history_names_the_field_only(admin_client, setting):
    assert admin_client.post(change_url(setting), form(setting, secret=NEW_SECRET.upper())).status_code == 302
    setting.refresh_from_db()
    assert setting.secret == NEW_SECRET
    entry = LogEntry.objects.get(object_id=str(setting.pk))
    assert "secret" in entry.get_change_message().lower()
    assert_nothing_of(entry.change_message + entry.object_repr, NEW_SECRET, NEW_SECRET.upper(), SECRET)


def test_a_secret_that_is_not_48_hex_is_refused_and_not_echoed(admin_client, setting):
    typed = "typed-value-" + "q" * 36
    response = admin_client.post(change_url(setting), form(setting, secret=typed))
    assert response.status_code == 200
    assert_nothing_of(response.content.decode(), typed, SECRET)
    setting.refresh_from_db()
    assert setting.secret == SECRET


def test_no_lookup_touches_the_secret(admin_client, setting):
    for lookup in ("secret", "secret__startswith", "secret__contains"):
        answer = admin_client.get(admin_url(WebhookSetting, "changelist"), {lookup: SECRET[:4]})
        assert answer.status_code in (302, 400), lookup


def test_an_internal_integration_gets_its_webhook_in_the_admin(admin_client, db):
    from providers.models import Integration

    integration = Integration.objects.create(name="shop3", provider="internal", base_url="http://127.0.0.1:9")
    answer = admin_client.post(
        admin_url(WebhookSetting, "add"), {"integration_id": str(integration.pk), "enabled": "on", "secret": NEW_SECRET}
    )
    assert answer.status_code == 302
    assert WebhookSetting.objects.get(pk=integration.pk).secret == NEW_SECRET
