"""The integration admin: single-line inputs sized like the live columns, the provider a choice
of the registered families, "test connection", and credentials that are write-only and never
appear in any admin page."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from providers.models import Integration
from providers.registry import CLIENTS, known_providers
from providers.znet.client import ZnetClient
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE

KOD = "bayi-7734"
SIFRE = "Gizli-Sifre-5521"
API_TOKEN = "tok-9f8e7d6c5b4a"


@pytest.fixture
def stored(db):
    return Integration.objects.create(
        name="znet live", provider="znet", base_url="https://znet.example", kod=KOD, sifre=SIFRE, api_token=API_TOKEN
    )


def form_data(integration, **secrets):
    data = {
        "name": integration.name,
        "provider": integration.provider,
        "base_url": integration.base_url,
        "tenant_id": "",
        "enabled": "on",
        "kod": "",
        "sifre": "",
        "api_token": "",
    }
    data.update(secrets)
    return data


def admin_url(page):
    """The URL name of one of the integration admin's pages (from the app label, which is not "providers")."""
    return admin_urlname(Integration._meta, page)


def change_url(integration):
    return reverse(admin_url("change"), args=[integration.pk])


def assert_no_secrets(html):
    for secret in (KOD, SIFRE, API_TOKEN):
        assert secret not in html


@pytest.mark.parametrize(
    "url",
    [
        lambda i: reverse(admin_url("changelist")),
        lambda i: reverse(admin_url("add")),
        change_url,
        lambda i: reverse(admin_url("history"), args=[i.pk]),
    ],
    ids=["changelist", "add", "change", "history"],
)
def test_pages_render_without_secrets(admin_client, stored, url):
    response = admin_client.get(url(stored))

    assert response.status_code == 200
    html = response.content.decode()
    assert stored.name in html or "Add integration" in html
    assert_no_secrets(html)


def test_saving_with_blank_secrets_keeps_them(admin_client, stored):
    response = admin_client.post(change_url(stored), form_data(stored, base_url="https://znet2.example"))

    assert response.status_code == 302
    stored.refresh_from_db()
    assert (stored.kod, stored.sifre, stored.api_token) == (KOD, SIFRE, API_TOKEN)
    assert stored.base_url == "https://znet2.example"


def test_saving_with_a_new_secret_changes_only_that_one(admin_client, stored):
    response = admin_client.post(change_url(stored), form_data(stored, sifre="Yeni-Sifre-0042"))

    assert response.status_code == 302
    stored.refresh_from_db()
    assert (stored.kod, stored.sifre, stored.api_token) == (KOD, "Yeni-Sifre-0042", API_TOKEN)
    history = admin_client.get(reverse(admin_url("history"), args=[stored.pk])).content.decode()
    assert "sifre" in history.lower()
    assert "Yeni-Sifre-0042" not in history
    assert_no_secrets(admin_client.get(change_url(stored)).content.decode())


def test_invalid_form_does_not_echo_a_typed_secret(admin_client, stored):
    response = admin_client.post(change_url(stored), form_data(stored, name="", kod="typed-kod-1188"))

    assert response.status_code == 200  # redisplayed with the error
    html = response.content.decode()
    assert "typed-kod-1188" not in html
    assert_no_secrets(html)
    stored.refresh_from_db()
    assert stored.kod == KOD


def test_adding_an_integration_stores_its_secrets(admin_client, db):
    data = form_data(Integration(name="new znet", provider="znet", base_url="https://z.example"), kod=KOD, sifre=SIFRE)

    response = admin_client.post(reverse(admin_url("add")), data)

    assert response.status_code == 302
    created = Integration.objects.get(name="new znet")
    assert (created.kod, created.sifre, created.api_token) == (KOD, SIFRE, None)
    assert_no_secrets(admin_client.get(change_url(created)).content.decode())


def test_form_has_single_line_inputs_sized_like_the_live_columns(admin_client, stored):
    html = admin_client.get(change_url(stored)).content.decode()

    assert "<textarea" not in html
    for name, size in (("name", 120), ("base_url", 255)):
        tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', html).group(0)
        assert 'type="text"' in tag and f'maxlength="{size}"' in tag
    for name, size in (("kod", 64), ("sifre", 128), ("api_token", 255)):
        tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', html).group(0)
        assert 'type="password"' in tag and f'maxlength="{size}"' in tag


def test_created_time_is_shown_to_the_second(admin_client, stored):
    Integration.objects.filter(pk=stored.pk).update(created_at=datetime(2026, 11, 26, 6, 21, 5, tzinfo=UTC))

    assert "2026-11-26 06:21:05+00:00" in admin_client.get(change_url(stored)).content.decode()


def test_provider_is_a_choice_of_the_registered_families(admin_client, stored):
    html = admin_client.get(change_url(stored)).content.decode()

    select = re.search(r'<select name="provider".*?</select>', html, flags=re.S).group(0)
    assert re.findall(r'<option value="(\w+)"', select) == known_providers()
    assert '<option value="znet" selected>' in select


def test_a_newly_registered_family_is_offered_at_once(admin_client, stored, monkeypatch):
    monkeypatch.setitem(CLIENTS, "internal", ZnetClient)

    html = admin_client.get(change_url(stored)).content.decode()

    assert '<option value="internal">' in html


def test_a_provider_typo_is_refused(admin_client, stored):
    response = admin_client.post(change_url(stored), form_data(stored, provider="foonet"))

    assert response.status_code == 200
    assert "Select a valid choice. foonet is not one of the available choices." in response.content.decode()
    stored.refresh_from_db()
    assert stored.provider == "znet"


def test_a_provider_the_older_application_spelled_differently_shows_selected(admin_client, stored):
    Integration.objects.filter(pk=stored.pk).update(provider="ZNET ")

    html = admin_client.get(change_url(stored)).content.decode()

    assert '<option value="znet" selected>' in html


@pytest.mark.parametrize("base_url", ["znet.example", "ftp://znet.example", "https://"])
def test_base_url_must_be_an_http_address(admin_client, stored, base_url):
    response = admin_client.post(change_url(stored), form_data(stored, base_url=base_url))

    assert response.status_code == 200
    assert "Enter an http:// or https:// address." in response.content.decode()


def test_a_secret_longer_than_its_column_is_refused(admin_client, stored):
    response = admin_client.post(change_url(stored), form_data(stored, kod="k" * 65))

    assert response.status_code == 200
    assert "Ensure this value has at most 64 characters" in response.content.decode()
    stored.refresh_from_db()
    assert stored.kod == KOD


def connection_url(integration):
    return reverse(admin_url("test_connection"), args=[integration.pk])


def test_test_connection_button_asks_the_provider_once(admin_client, integration, sandbox):
    page = admin_client.get(change_url(integration)).content.decode()
    assert f'action="{connection_url(integration)}"' in page and "Test connection" in page

    response = admin_client.post(connection_url(integration), follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == change_url(integration)
    assert "Test connection of znet sandbox (znet): OK: 1 product in the catalog" in html
    assert [entry["path"] for entry in sandbox.request_log] == ["pin_listesi"]
    assert SANDBOX_KOD not in html and SANDBOX_SIFRE not in html
    history = admin_client.get(reverse(admin_url("history"), args=[integration.pk])).content.decode()
    assert "Tested connection: OK: 1 product in the catalog" in history
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", history)  # when, to the second


def test_test_connection_reports_a_refusal_without_the_secret(admin_client, integration, sandbox):
    Integration.objects.filter(pk=integration.pk).update(sifre="Wrong-Sifre-3391")

    html = admin_client.post(connection_url(integration), follow=True).content.decode()

    assert "refused: provider error 1: Bayi kodu veya şifre hatalı" in html
    assert "Wrong-Sifre-3391" not in html and SANDBOX_KOD not in html


def test_test_connection_needs_post_and_the_change_permission(client, integration, sandbox):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_integration"))
    client.force_login(viewer)

    assert client.get(change_url(integration)).status_code == 200
    assert "Test connection" not in client.get(change_url(integration)).content.decode()
    assert client.get(connection_url(integration)).status_code == 405
    assert client.post(connection_url(integration)).status_code == 403
    assert sandbox.request_log == []


def test_test_connection_action_tests_at_most_the_limit(admin_client, integration, sandbox, settings):
    settings.MONITOR_ADMIN_CHECK_LIMIT = 2
    others = [
        Integration.objects.create(
            name=f"znet {n}", provider="znet", base_url=sandbox.base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE
        )
        for n in (2, 3)
    ]
    selected = [integration, *others]

    response = admin_client.post(
        reverse(admin_url("changelist")),
        {"action": "test_connection", "_selected_action": [str(i.pk) for i in selected]},
        follow=True,
    )

    html = response.content.decode()
    assert "Tested 2 of 3 selected integrations (at most 2 per click, 10 s). 1 not tested" in html
    # By name: "znet 2" and "znet 3", not "znet sandbox".
    assert "Test connection of znet 2 (znet): OK: 1 product in the catalog" in html
    assert "Test connection of znet 3 (znet): OK: 1 product in the catalog" in html
    assert "of znet sandbox (znet):" not in html
    assert [entry["path"] for entry in sandbox.request_log] == ["pin_listesi", "pin_listesi"]
    assert SANDBOX_KOD not in html and SANDBOX_SIFRE not in html
