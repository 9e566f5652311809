"""Where provider requests may go (providers.addresses): the baseUrl's form, its host, and the
addresses a host name resolves to when the connection is opened; an unusable baseUrl is a
permanent configuration error, listed by monitor_health, and no request leaves."""

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from health.report import failing_integrations
from orders.claiming import RunConfig
from orders.loop import run_batch
from orders.monitor import check_single_order
from providers.addresses import (
    AddressNotAllowed,
    base_url_problem,
    build_session,
    host_key,
    request_url_problem,
    shown_url,
)
from providers.base import CheckState
from providers.connection import probe_connection
from providers.http import HttpLimits, ProviderHTTPError, http_get
from providers.models import Integration
from providers.znet.client import ZnetClient
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE, create_sent_order
from tests.providers.checks import check_status


@pytest.fixture
def production_hosts(settings):
    """No host of the monitor's own network allowed: the production default."""
    settings.MONITOR_ALLOWED_PROVIDER_HOSTS = []
    return settings


def znet_at(base_url):
    return Integration(name="znet", provider="znet", base_url=base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE)


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api.provider.example",
        "http://bayi.znet.example/",
        "https://api.provider.example:8443/v2",
        "http://93.184.216.34/",
        "http://[2606:4700:4700::1111]:8080/",
        "  https://api.provider.example  ",  # spaces around are stripped, as the admin does
    ],
)
def test_a_provider_on_the_internet_is_a_usable_base_url(production_hosts, base_url):
    assert base_url_problem(base_url) is None


@pytest.mark.parametrize(
    "base_url,problem",
    [
        ("ftp://files.example", "must start with http:// or https://"),
        ("api.provider.example", "must start with http:// or https://"),
        ("http://user:pw@api.provider.example", "must not contain a user name or password"),
        ("http://api.provider.example/servis?x=", "must not have a query"),
        ("http://api.provider.example/#top", "must not have a fragment"),
        ("http://api.provider.example:99999/", "invalid port"),
        ("http://api.provider.example:0/", "invalid port"),
        ("http://api.provider.example:http/", "invalid port"),
        ("http://api.provider.example/\r\nX-Injected: 1", "line breaks"),
        ("http://api provider.example/", "spaces"),
        ("http://api.provider.example\\@127.0.0.1/", "backslash"),
        ("http:///servis", "has no host"),
        ("http://127.0.0.1:5432/", "127.0.0.1 is a loopback address"),
        ("http://[::1]/", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/", "is a loopback address"),
        ("http://localhost:8000/", "localhost is a loopback name"),
        ("http://admin.localhost/", "admin.localhost is a loopback name"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a cloud metadata address"),
        ("http://[fd00:ec2::254]/", "is a cloud metadata address"),
        ("http://100.100.100.200/", "is a cloud metadata address"),
        ("http://metadata.google.internal/", "metadata.google.internal is a cloud metadata name"),
        ("http://169.254.1.1/", "is a link-local address"),
        ("http://10.1.2.3/", "is a private address"),
        ("http://172.16.0.1/", "is a private address"),
        ("http://192.168.1.1:8080/", "is a private address"),
        ("http://[fd12:3456::1]/", "is a private address"),
        ("http://0.0.0.0:8000/", "0.0.0.0 is a"),
        ("http://224.0.0.1/", "is a multicast address"),
        ("http://2130706433/", "an address in an unusual form"),
        ("http://0x7f.1/", "an address in an unusual form"),
        ("http://127.1/", "an address in an unusual form"),
    ],
)
def test_an_unusable_base_url_is_refused_with_the_reason(production_hosts, base_url, problem):
    found = base_url_problem(base_url)

    assert found is not None and problem in found
    assert found.startswith("baseUrl")


def test_hosts_the_setting_names_are_allowed(settings):
    settings.MONITOR_ALLOWED_PROVIDER_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

    for allowed in ("http://127.0.0.1:8000", "http://localhost:8000", "http://LOCALHOST./", "http://[::1]:80"):
        assert base_url_problem(allowed) is None
    assert "10.0.0.1 is a private address" in base_url_problem("http://10.0.0.1")
    assert "admin.localhost is a loopback name" in base_url_problem("http://admin.localhost")


def test_the_setting_may_be_one_comma_separated_text(settings):
    settings.MONITOR_ALLOWED_PROVIDER_HOSTS = " 127.0.0.1 , sandbox.internal "

    assert base_url_problem("http://127.0.0.1:1") is None
    assert base_url_problem("http://192.168.0.1") is not None


@given(st.ip_addresses(network="10.0.0.0/8") | st.ip_addresses(network="192.168.0.0/16"))
def test_no_private_ipv4_address_is_usable(address):
    with_production_hosts(lambda: _assert_refused(f"http://{address}/"))


@given(st.ip_addresses(v=6, network="fc00::/7") | st.ip_addresses(v=6, network="fe80::/10"))
def test_no_private_or_link_local_ipv6_address_is_usable(address):
    with_production_hosts(lambda: _assert_refused(f"http://[{address}]/"))


@given(
    st.text(alphabet="\r\n\t \x00\x0b\x7f", min_size=1, max_size=3),
    st.integers(min_value=len("http://"), max_value=len("http://api.provider.example/servis")),
)
def test_a_control_character_anywhere_inside_is_refused(inserted, at):
    url = "http://api.provider.example/servis"
    broken = (url[:at] + inserted + url[at:]).strip()
    if broken == url:  # only spaces at the ends, which are stripped
        return
    with_production_hosts(lambda: _assert_refused(broken))


def with_production_hosts(check):
    from django.test import override_settings

    with override_settings(MONITOR_ALLOWED_PROVIDER_HOSTS=[]):
        check()


def _assert_refused(url):
    assert base_url_problem(url) is not None, url


def test_request_urls_may_carry_parameters_but_not_a_refused_host(production_hosts):
    assert request_url_problem("http://api.provider.example/servis/pin_kontrol.php?kod=k&sifre=s") is None
    assert "loopback" in request_url_problem("http://127.0.0.1:9/servis/pin_kontrol.php?kod=k")


def test_shown_url_hides_user_info_and_query():
    assert shown_url("http://user:pw@api.provider.example:81/x?kod=k#f") == (
        "http://***@api.provider.example:81/x (query not shown)"
    )
    assert shown_url("https://api.provider.example/") == "https://api.provider.example/"
    assert shown_url("") == ""


def test_host_key_is_the_host_and_the_port_given():
    assert host_key("https://API.provider.example./v1") == ("api.provider.example", None)
    assert host_key("http://api.provider.example:8080") == ("api.provider.example", 8080)
    assert host_key("http://user:pw@other.example/") == ("other.example", None)
    assert host_key("http://x.example:bad/") == ("x.example", None)


# -- what the monitor and "Test connection" do with it -------------------------------------------


def test_a_refused_base_url_is_a_permanent_configuration_error_without_a_request(production_hosts, sandbox):
    result = check_status(ZnetClient(znet_at(sandbox.base_url), limits=HttpLimits.from_settings()), "ref-1")

    assert result.state == CheckState.CONFIGURATION_ERROR and result.permanent
    assert "127.0.0.1 is a loopback address" in result.message
    assert sandbox.request_log == []


@pytest.mark.parametrize(
    "base_url", ["htp://api.provider.example", "http://api.provider.example:70000", "http://x.example/\r\nHost: y"]
)
def test_a_base_url_stored_unusable_is_listed_by_monitor_health(db, production_hosts, base_url):
    """Rows the older application (or SQL) wrote, never through the admin's form."""
    integration = Integration.objects.create(
        name="broken", provider="znet", base_url=base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE
    )
    order = create_sent_order(integration)

    checked, outcome = check_single_order(order.pk, RunConfig.from_settings())

    assert outcome == "error"
    assert checked.last_check_error.startswith("configuration error: integration not usable: baseUrl")
    assert checked.permanent_error_since is not None
    failing = failing_integrations(cutoff=checked.permanent_error_since)
    assert [row.integration_id for row in failing] == [str(integration.pk)]


def test_a_guarded_session_refuses_before_connecting(production_hosts, sandbox):
    session = build_session(1)

    with pytest.raises(AddressNotAllowed, match="127.0.0.1 is a loopback address"):
        session.get(sandbox.base_url + "/servis/pin_listesi.php", timeout=2)
    with pytest.raises(ProviderHTTPError) as raised:
        http_get(session, sandbox.base_url + "/servis/pin_listesi.php", limits=HttpLimits.from_settings())
    assert raised.value.permanent and not raised.value.transient and not raised.value.may_have_arrived
    assert sandbox.request_log == []


def own_host_name_resolving_to_an_internal_address():
    """This machine's own name: a name (so the baseUrl's text passes) whose addresses, known only
    when it is resolved, are internal (127.0.0.1 here, a private address in most containers)."""
    name = socket.gethostname()
    try:
        found = {info[4][0] for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    except OSError:
        pytest.skip(f"the host name {name!r} does not resolve")
    if all(ipaddress.ip_address(a.split("%")[0]).is_global for a in found):
        pytest.skip(f"the host name {name!r} resolves to public addresses only")
    return name


def test_a_name_that_resolves_to_an_internal_address_is_refused_when_connecting(production_hosts, sandbox):
    name = own_host_name_resolving_to_an_internal_address()
    base_url = sandbox.base_url.replace("127.0.0.1", name)
    assert base_url_problem(base_url) is None  # the text alone cannot tell

    result = check_status(ZnetClient(znet_at(base_url), limits=HttpLimits.from_settings()), "ref-1")
    check = probe_connection(znet_at(base_url), max_seconds=5)

    assert result.state == CheckState.CONFIGURATION_ERROR and result.permanent
    assert f"{name} resolves to" in result.message
    assert "(MONITOR_ALLOWED_PROVIDER_HOSTS does not name it)" in result.message
    assert not check.ok and check.summary.startswith(f"refused: not sent: {name} resolves to")
    assert sandbox.request_log == []


def test_a_name_resolving_to_an_allowed_address_is_asked(settings, sandbox):
    settings.MONITOR_ALLOWED_PROVIDER_HOSTS = ["127.0.0.1"]
    name = own_host_name_resolving_to_an_internal_address()
    if "127.0.0.1" not in {info[4][0] for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}:
        pytest.skip(f"the host name {name!r} does not resolve to 127.0.0.1")

    check = probe_connection(znet_at(sandbox.base_url.replace("127.0.0.1", name)), max_seconds=5)

    assert check.ok, check.summary
    assert [entry["path"] for entry in sandbox.request_log] == ["pin_listesi"]


def test_a_run_refuses_a_name_that_resolves_to_an_internal_address(db, production_hosts, sandbox):
    name = own_host_name_resolving_to_an_internal_address()
    integration = Integration.objects.create(
        name="rebound",
        provider="znet",
        base_url=sandbox.base_url.replace("127.0.0.1", name),
        kod=SANDBOX_KOD,
        sifre=SANDBOX_SIFRE,
    )
    order = create_sent_order(integration)

    report = run_batch(RunConfig.from_settings(max_seconds=10))

    order.refresh_from_db()
    assert "errors=1" in report.summary_line()
    assert order.last_check_error.startswith(f"configuration error: not sent: {name} resolves to")
    assert order.permanent_error_since is not None
    assert sandbox.request_log == []
