"""The integration admin: single-line inputs sized like the live columns, the provider a choice
of the registered families, "test connection"; credentials that no page shows, for any user in any
mode; URL lookups that cannot tell a credential apart; a baseUrl that points at a provider only,
and credentials that never follow it to another host."""

import logging
import re
from datetime import UTC, datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from providers.models import Integration
from providers.registry import CLIENTS, known_providers
from providers.znet.client import ZnetClient
from sandbox.http import SandboxServer
from tests.admin_pages import admin_url, assert_nothing_of, filter_links, staff_user
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE

KOD = "bayi-7734"
SIFRE = "Gizli-Sifre-5521"
API_TOKEN = "tok-9f8e7d6c5b4a"
SECRETS = (KOD, SIFRE, API_TOKEN)


@pytest.fixture
def stored(db):
    return Integration.objects.create(
        name="znet live", provider="znet", base_url="https://znet.example", kod=KOD, sifre=SIFRE, api_token=API_TOKEN
    )


@pytest.fixture
def production_hosts(settings):
    """No host of the monitor's own network allowed: the production default."""
    settings.MONITOR_ALLOWED_PROVIDER_HOSTS = []


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(params=["superuser", "viewer", "editor"])
def anyone(request, db, admin_user):
    """A client logged in as a superuser, as staff who may only view integrations, and as staff
    who may change them."""
    users = {
        "superuser": lambda: admin_user,
        "viewer": lambda: staff_user("viewer", {Integration: ("view",)}),
        "editor": lambda: staff_user("editor", {Integration: ("view", "change")}),
    }
    return logged_in(users[request.param]())


@pytest.fixture
def viewer(db):
    return logged_in(staff_user("viewer", {Integration: ("view",)}))


def form_data(integration, **values):
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
    data.update(values)
    return data


def changelist():
    return admin_url(Integration, "changelist")


def change_url(integration):
    return admin_url(Integration, "change", integration.pk)


def history_url(integration):
    return admin_url(Integration, "history", integration.pk)


def messages_of(html):
    found = re.search(r'<ul class="messagelist">.*?</ul>', html, flags=re.S)
    return found.group(0) if found else ""


# -- no page shows a credential --------------------------------------------------------------


@pytest.mark.parametrize("page", [lambda i: changelist(), change_url, history_url], ids=["list", "change", "history"])
def test_no_page_shows_a_stored_credential(anyone, stored, page):
    response = anyone.get(page(stored))

    assert response.status_code == 200
    html = response.content.decode()
    assert stored.name in html
    assert_nothing_of(html, *SECRETS)


def test_the_add_page_shows_no_credential(admin_client, stored):
    html = admin_client.get(admin_url(Integration, "add")).content.decode()

    assert "Add integration" in html
    assert_nothing_of(html, *SECRETS)


def test_the_delete_page_and_a_prefilled_add_page_show_no_credential(admin_client, stored):
    delete = admin_client.get(admin_url(Integration, "delete", stored.pk)).content.decode()
    prefilled = admin_client.get(admin_url(Integration, "add"), {"kod": KOD, "sifre": SIFRE}).content.decode()

    assert "Are you sure" in delete
    assert_nothing_of(delete + prefilled, *SECRETS)


def test_every_page_says_only_whether_each_credential_is_set(anyone, stored):
    Integration.objects.filter(pk=stored.pk).update(kod="k-12")  # short: not even its end is shown

    html = anyone.get(change_url(stored)).content.decode()

    assert "kod: set; sifre: set, ends in 21; apiToken: set, ends in 4a" in html
    assert "k-12" not in html


def test_a_view_only_page_has_no_credential_input_and_renders_no_stored_value(viewer, stored):
    html = viewer.get(change_url(stored)).content.decode()

    assert 'name="name"' not in html and "znet live" in html  # read-only
    for name in ("kod", "sifre", "api_token"):
        assert f'name="{name}"' not in html
    assert "Stored values are never shown." in html
    assert_nothing_of(html, *SECRETS)


def test_a_base_url_with_user_info_or_a_query_is_never_shown(anyone, stored):
    """Rows written before the baseUrl was checked: Basic-auth user info, a password in the query."""
    Integration.objects.filter(pk=stored.pk).update(base_url="http://user:Basic-Pw-6612@znet.example/x?kod=QueryKod77")

    listed = anyone.get(changelist()).content.decode()
    page = anyone.get(change_url(stored)).content.decode()

    assert "http://***@znet.example/x (query not shown)" in listed
    assert_nothing_of(listed + page, "Basic-Pw-6612", "QueryKod77", *SECRETS)


def test_the_edit_form_offers_a_stored_base_url_without_its_user_info(admin_client, stored):
    Integration.objects.filter(pk=stored.pk).update(base_url="http://user:Basic-Pw-6612@znet.example/x?a=1")

    html = admin_client.get(change_url(stored)).content.decode()

    assert re.search(r'<input [^>]*name="base_url"[^>]*value="http://znet.example/x"', html)
    assert "saving drops them" in html


def test_a_saved_change_records_field_names_only(anyone, admin_client, stored):
    new_sifre = "Yeni-Sifre-0042"

    response = admin_client.post(change_url(stored), form_data(stored, sifre=new_sifre, kod="bayi-9911"))

    assert response.status_code == 302
    stored.refresh_from_db()
    assert (stored.kod, stored.sifre, stored.api_token) == ("bayi-9911", new_sifre, API_TOKEN)
    entry = LogEntry.objects.get(object_id=str(stored.pk))
    assert "sifre" in entry.get_change_message().lower()
    assert_nothing_of(entry.change_message + entry.object_repr, new_sifre, "bayi-9911", *SECRETS)
    history = anyone.get(history_url(stored)).content.decode()
    assert "sifre" in history.lower()
    assert_nothing_of(history, new_sifre, "bayi-9911", *SECRETS)
    assert_nothing_of(anyone.get(change_url(stored)).content.decode(), new_sifre, "bayi-9911")


def test_invalid_form_does_not_echo_a_typed_secret(admin_client, stored):
    response = admin_client.post(change_url(stored), form_data(stored, name="", kod="typed-kod-1188"))

    assert response.status_code == 200  # redisplayed with the error
    html = response.content.decode()
    assert_nothing_of(html, "typed-kod-1188", *SECRETS)
    stored.refresh_from_db()
    assert stored.kod == KOD


def test_adding_an_integration_stores_its_secrets(admin_client, db):
    data = form_data(Integration(name="new znet", provider="znet", base_url="https://z.example"), kod=KOD, sifre=SIFRE)

    response = admin_client.post(admin_url(Integration, "add"), data)

    assert response.status_code == 302
    created = Integration.objects.get(name="new znet")
    assert (created.kod, created.sifre, created.api_token) == (KOD, SIFRE, None)
    assert_nothing_of(admin_client.get(change_url(created)).content.decode(), *SECRETS)


# -- URL lookups and search are no oracle ----------------------------------------------------


@pytest.mark.parametrize(
    "lookup,matching,not_matching",
    [
        ("sifre__startswith", SIFRE[:5], "Zzzzz"),
        ("api_token__startswith", API_TOKEN[:5], "zzzzz"),
        ("kod__regex", "^bayi", "^nope"),
        ("kod", KOD, "other"),
        ("sifre__exact", SIFRE, "other"),
        ("base_url__contains", "znet", "nothing"),
        ("name__regex", "znet", "("),
        ("id", "", "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_a_lookup_the_filters_do_not_offer_is_refused_for_any_value(anyone, stored, lookup, matching, not_matching):
    if lookup == "id":
        matching = str(stored.pk)

    hit = anyone.get(changelist(), {lookup: matching})
    miss = anyone.get(changelist(), {lookup: not_matching})

    assert (hit.status_code, miss.status_code) == (400, 400)
    assert hit.content == miss.content
    assert_nothing_of(hit.content.decode(), *SECRETS)


def test_the_filters_and_search_the_list_offers_still_work(anyone, stored, db):
    other = Integration.objects.create(name="apstore main", provider="apstore", base_url="https://ap.example")

    by_provider = anyone.get(changelist(), {"provider__exact": "znet"}).content.decode()
    by_enabled = anyone.get(changelist(), {"enabled__exact": "1"}).content.decode()
    by_name = anyone.get(changelist(), {"q": "apstore"}).content.decode()
    by_host = anyone.get(changelist(), {"q": "znet.example"}).content.decode()

    assert change_url(stored) in by_provider and change_url(other) not in by_provider
    assert change_url(stored) in by_enabled and change_url(other) in by_enabled
    assert change_url(other) in by_name and change_url(stored) not in by_name
    assert change_url(stored) in by_host and change_url(other) not in by_host


def test_every_link_the_list_offers_is_accepted(admin_client, stored):
    Integration.objects.create(name="apstore main", provider="apstore", base_url="https://ap.example", enabled=False)

    links = filter_links(admin_client.get(changelist(), {"_facets": "1"}).content.decode())

    assert any("provider__exact=apstore" in link for link in links)
    assert any("enabled__exact=0" in link for link in links)
    for link in links:
        assert admin_client.get(changelist() + link).status_code == 200, link


@pytest.mark.parametrize("term", [KOD, SIFRE[:6], API_TOKEN[-6:], "Basic-Pw", "QueryKod"])
def test_search_never_matches_inside_a_credential(anyone, stored, term):
    Integration.objects.filter(pk=stored.pk).update(base_url="http://user:Basic-Pw-6612@znet.example/x?kod=QueryKod77")

    html = anyone.get(changelist(), {"q": term}).content.decode()

    assert change_url(stored) not in html


@pytest.mark.parametrize(
    "params",
    [{"provider__exact": "zn\x00et"}, {"q": "znet\x00"}, {"enabled__exact": "maybe"}],
    ids=["nul", "q", "bool"],
)
def test_a_value_the_database_refuses_is_the_admins_own_answer_not_a_500(anyone, stored, params):
    """On PostgreSQL a NUL character is refused by the driver; the same test runs on both."""
    response = anyone.get(changelist(), params)

    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"].endswith("?e=1")
    # The request's transaction is still usable afterwards.
    assert anyone.get(changelist()).status_code == 200


# -- the form --------------------------------------------------------------------------------


def test_saving_with_blank_secrets_on_the_same_host_keeps_them(admin_client, stored):
    response = admin_client.post(change_url(stored), form_data(stored, base_url="http://znet.example/v2"))

    assert response.status_code == 302
    stored.refresh_from_db()
    assert (stored.kod, stored.sifre, stored.api_token) == (KOD, SIFRE, API_TOKEN)
    assert stored.base_url == "http://znet.example/v2"


@pytest.mark.parametrize("new_base_url", ["https://znet2.example", "https://znet.example:8443"])
def test_a_new_host_asks_for_the_credentials_again(admin_client, stored, new_base_url):
    refused = admin_client.post(change_url(stored), form_data(stored, base_url=new_base_url))

    assert refused.status_code == 200
    html = refused.content.decode()
    assert "The baseUrl&#x27;s host changes: enter kod again" in html
    assert "The baseUrl&#x27;s host changes: enter sifre again" in html
    stored.refresh_from_db()
    assert (stored.base_url, stored.kod, stored.sifre) == ("https://znet.example", KOD, SIFRE)

    saved = admin_client.post(
        change_url(stored), form_data(stored, base_url=new_base_url, kod="bayi-2200", sifre="New-Host-Sifre-31")
    )

    assert saved.status_code == 302
    stored.refresh_from_db()
    assert (stored.base_url, stored.kod, stored.sifre) == (new_base_url, "bayi-2200", "New-Host-Sifre-31")
    assert stored.api_token is None  # znet sends no token: not typed again, it is dropped


def test_a_client_api_family_on_a_new_host_asks_for_the_token_only(admin_client, db):
    apstore = Integration.objects.create(
        name="apstore", provider="apstore", base_url="https://ap.example", api_token=API_TOKEN, kod=KOD
    )

    refused = admin_client.post(change_url(apstore), form_data(apstore, base_url="https://ap2.example"))
    saved = admin_client.post(
        change_url(apstore), form_data(apstore, base_url="https://ap2.example", api_token="tok-new-host-8812")
    )

    assert "enter apiToken again" in refused.content.decode() and "enter kod again" not in refused.content.decode()
    assert saved.status_code == 302
    apstore.refresh_from_db()
    assert (apstore.api_token, apstore.kod) == ("tok-new-host-8812", None)


def test_form_has_single_line_inputs_sized_like_the_live_columns(admin_client, stored):
    html = admin_client.get(change_url(stored)).content.decode()

    assert "<textarea" not in html
    for name, size in (("name", 120), ("base_url", 255)):
        tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', html).group(0)
        assert 'type="text"' in tag and f'maxlength="{size}"' in tag
    for name, size in (("kod", 64), ("sifre", 128), ("api_token", 255)):
        tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', html).group(0)
        assert 'type="password"' in tag and f'maxlength="{size}"' in tag and "value=" not in tag


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


@pytest.mark.parametrize(
    "base_url,error",
    [
        ("http://user:pw@znet.example/", "must not contain a user name or password"),
        ("http://znet.example/servis?kod=x", "must not have a query"),
        ("http://znet.example/#x", "must not have a fragment"),
        ("http://127.0.0.1:5432/", "127.0.0.1 is a loopback address"),
        ("http://localhost:8000/", "localhost is a loopback name"),
        ("http://[::1]/", "::1 is a loopback address"),
        ("http://169.254.169.254/latest/", "169.254.169.254 is a cloud metadata address"),
        ("http://10.0.0.7/", "10.0.0.7 is a private address"),
    ],
)
def test_a_base_url_that_is_not_a_provider_on_the_internet_is_refused(
    admin_client, production_hosts, db, base_url, error
):
    data = form_data(Integration(name="probe", provider="znet", base_url=base_url), kod=KOD, sifre=SIFRE)

    response = admin_client.post(admin_url(Integration, "add"), data)

    assert response.status_code == 200
    assert error in response.content.decode().replace("&#x27;", "'")
    assert not Integration.objects.filter(name="probe").exists()


def test_a_host_the_setting_names_may_be_saved(admin_client, settings, db):
    settings.MONITOR_ALLOWED_PROVIDER_HOSTS = ["127.0.0.1"]
    data = form_data(Integration(name="local", provider="znet", base_url="http://127.0.0.1:8000"), kod=KOD, sifre=SIFRE)

    assert admin_client.post(admin_url(Integration, "add"), data).status_code == 302


def test_a_secret_longer_than_its_column_is_refused(admin_client, stored):
    response = admin_client.post(change_url(stored), form_data(stored, kod="k" * 65))

    assert response.status_code == 200
    assert "Ensure this value has at most 64 characters" in response.content.decode()
    stored.refresh_from_db()
    assert stored.kod == KOD


# -- "Test connection" ---------------------------------------------------------------------


def connection_url(integration):
    return admin_url(Integration, "test_connection", integration.pk)


def test_test_connection_button_asks_the_provider_once(admin_client, integration, sandbox):
    page = admin_client.get(change_url(integration)).content.decode()
    assert f'action="{connection_url(integration)}"' in page and "Test connection" in page

    response = admin_client.post(connection_url(integration), follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == change_url(integration)
    assert "Test connection of znet sandbox (znet): reached znet: 1 product in the catalog" in html
    assert [entry["path"] for entry in sandbox.request_log] == ["pin_listesi"]
    assert_nothing_of(html, SANDBOX_KOD, SANDBOX_SIFRE)
    history = admin_client.get(history_url(integration)).content.decode()
    assert "Tested connection: reached znet: 1 product in the catalog" in history
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", history)  # when, to the second


def test_test_connection_shows_a_refusal_without_the_providers_words(admin_client, integration, sandbox, caplog):
    Integration.objects.filter(pk=integration.pk).update(sifre="Wrong-Sifre-3391")

    with caplog.at_level(logging.INFO, logger="providers.admin"):
        html = admin_client.post(connection_url(integration), follow=True).content.decode()

    assert "Test connection of znet sandbox (znet): refused: provider error 1" in messages_of(html)
    assert "Bayi kodu" not in html
    assert_nothing_of(html, "Wrong-Sifre-3391", SANDBOX_KOD)
    assert "refused: provider error 1: Bayi kodu veya şifre hatalı" in caplog.text  # for whoever reads the log


class EchoingServer(SandboxServer):
    """A host that answers every request with the request itself, as some error pages do."""

    def endpoint_of(self, path):
        return "echo"

    def respond(self, path, params, headers):
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return 200, f"Error in request!: GET {path}?{query} api-token: {headers.get('api-token')}", 0

    def _mentions(self, entry, reference):
        return False


@pytest.fixture
def echoing():
    server = EchoingServer().start()
    yield server
    server.stop()


def test_test_connection_never_shows_the_reply(admin_client, echoing, db):
    echoed = Integration.objects.create(
        name="echo", provider="znet", base_url=echoing.base_url, kod="bayi-echo-11", sifre="Echo-Sifre-4455"
    )

    html = admin_client.post(connection_url(echoed), follow=True).content.decode()

    assert "Test connection of echo (znet): malformed answer" in messages_of(html)
    assert "Error in request" not in html and "pin_listesi" not in html
    assert_nothing_of(html, "bayi-echo-11", "Echo-Sifre-4455")
    entry = LogEntry.objects.get(object_id=str(echoed.pk))
    assert entry.get_change_message() == "Tested connection: malformed answer"


def test_test_connection_of_an_address_not_allowed_sends_nothing(admin_client, integration, sandbox, production_hosts):
    html = admin_client.post(connection_url(integration), follow=True).content.decode()

    assert (
        "not configured: integration not usable: baseUrl&#x27;s host 127.0.0.1 is a loopback address "
        "(MONITOR_ALLOWED_PROVIDER_HOSTS does not name it)" in messages_of(html)
    )
    assert sandbox.request_log == []


def test_test_connection_needs_post_and_the_change_permission(viewer, integration, sandbox):
    assert viewer.get(change_url(integration)).status_code == 200
    assert "Test connection" not in viewer.get(change_url(integration)).content.decode()
    assert viewer.get(connection_url(integration)).status_code == 405
    assert viewer.post(connection_url(integration)).status_code == 403
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
        changelist(), {"action": "test_connection", "_selected_action": [str(i.pk) for i in selected]}, follow=True
    )

    html = response.content.decode()
    assert "Tested 2 of 3 selected integrations (at most 2 per click, 10 s). 1 not tested" in html
    # By name: "znet 2" and "znet 3", not "znet sandbox".
    assert "Test connection of znet 2 (znet): reached znet: 1 product in the catalog" in html
    assert "Test connection of znet 3 (znet): reached znet: 1 product in the catalog" in html
    assert "of znet sandbox (znet):" not in html
    assert [entry["path"] for entry in sandbox.request_log] == ["pin_listesi", "pin_listesi"]
    assert_nothing_of(html, SANDBOX_KOD, SANDBOX_SIFRE)
