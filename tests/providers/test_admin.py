"""The integration admin: credentials are write-only and never appear in any admin page."""

import pytest
from django.urls import reverse

from providers.models import Integration

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


def change_url(integration):
    return reverse("admin:providers_integration_change", args=[integration.pk])


def assert_no_secrets(html):
    for secret in (KOD, SIFRE, API_TOKEN):
        assert secret not in html


@pytest.mark.parametrize(
    "url",
    [
        lambda i: reverse("admin:providers_integration_changelist"),
        lambda i: reverse("admin:providers_integration_add"),
        change_url,
        lambda i: reverse("admin:providers_integration_history", args=[i.pk]),
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
    history = admin_client.get(reverse("admin:providers_integration_history", args=[stored.pk])).content.decode()
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

    response = admin_client.post(reverse("admin:providers_integration_add"), data)

    assert response.status_code == 302
    created = Integration.objects.get(name="new znet")
    assert (created.kod, created.sifre, created.api_token) == (KOD, SIFRE, None)
    assert_no_secrets(admin_client.get(change_url(created)).content.decode())
