"""Where provider requests may go: the integration's `"baseUrl"` names a provider on the internet,
never the monitor's own network (loopback, link-local, private, cloud metadata addresses), unless
`MONITOR_ALLOWED_PROVIDER_HOSTS` names that host (the sandboxes and tests on 127.0.0.1).

Three checks, one rule:

- `base_url_problem`: the baseUrl as text (the admin form, and each client before any request):
  http(s), no user info, query, fragment, whitespace or backslash, a valid port, and a host that
  is not such an address or name (no DNS lookup: it runs on every save and every check);
- `GuardedAdapter.send`: the same for each request's URL (every client's session mounts it:
  `build_session`);
- the guarded connections: the addresses a host name resolves to, checked when the connection is
  opened, and the connection opened to exactly those addresses, so a name that resolves to a
  public address at save time and to 127.0.0.1 at request time (DNS rebinding) is refused.

A refusal raises `AddressNotAllowed` (providers.http makes it a permanent configuration error).
Requests through a proxy from the environment (HTTP_PROXY, HTTPS_PROXY) are resolved by the
proxy: there only the URL's host is checked.
"""

import ipaddress
import re
import socket
import sys
from urllib.parse import SplitResult, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family
from urllib3.util.timeout import _DEFAULT_TIMEOUT

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

SETTING = "MONITOR_ALLOWED_PROVIDER_HOSTS"
_ALLOW_HINT = f" ({SETTING} does not name it)"
# Cloud metadata services (AWS, GCP, Azure, Alibaba; ECS task metadata; AWS over IPv6).
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
)
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
_IPV4_LIKE = re.compile(r"[0-9a-fx.]+")


class AddressNotAllowed(requests.exceptions.InvalidURL):
    """A provider request refused before anything was sent: its host or address is not allowed."""


class _Refused(Exception):
    """Raised inside urllib3 (not an OSError, which urllib3 would take for a network failure and
    retry); GuardedAdapter.send turns it into AddressNotAllowed."""


# -- the rule ------------------------------------------------------------------------------------


def allowed_hosts() -> tuple[frozenset[str], frozenset[Address]]:
    """The host names and the addresses MONITOR_ALLOWED_PROVIDER_HOSTS names."""
    names, addresses = set(), set()
    for entry in _setting_entries():
        address = _address_or_none(entry)
        if address is None:
            names.add(_normal_name(entry))
        else:
            addresses.add(address)
    return frozenset(names), frozenset(addresses)


def _setting_entries() -> list[str]:
    value = getattr(settings, SETTING, ())
    entries = value.split(",") if isinstance(value, str) else list(value)
    return [entry.strip() for entry in entries if entry and entry.strip()]


def address_kind(address: Address) -> str | None:
    """What makes `address` one the monitor must not send a request to, or None (public)."""
    address = _embedded_ipv4(address)
    if address in _METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_private:
        return "a private address"
    if address.is_multicast:
        return "a multicast address"
    if not address.is_global:
        return "a reserved address"
    return None


def host_problem(host: str) -> str | None:
    """Why requests must not go to `host` (a name or an address, as in a URL), or None. No DNS."""
    names, addresses = allowed_hosts()
    name = _normal_name(host)
    if name in names:
        return None
    address = _address_or_none(name)
    if address is not None:
        kind = address_kind(address)
        if kind and _embedded_ipv4(address) not in addresses and address not in addresses:
            return f"{host} is {kind}{_ALLOW_HINT}"
        return None
    if _IPV4_LIKE.fullmatch(name) and _inet_aton_or_none(name):
        # 2130706433, 0x7f.1, 127.1: the socket library reads them as 127.0.0.1.
        return f"{host} is an address in an unusual form: write it as four decimal numbers (a.b.c.d)"
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return f"{host} is a loopback name{_ALLOW_HINT}"
    if name in _METADATA_NAMES:
        return f"{host} is a cloud metadata name{_ALLOW_HINT}"
    if not _HOST_NAME.fullmatch(_idna(name)):
        return f"{host} is not a host name"
    return None


def destination_problem(host: str, resolved: list[str]) -> str | None:
    """Why a connection to `host`, which resolved to the `resolved` addresses, must not be opened."""
    names, addresses = allowed_hosts()
    if _normal_name(host) in names:
        return None
    for text in resolved:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if address in addresses or _embedded_ipv4(address) in addresses:
            continue
        kind = address_kind(address)
        if kind:
            return f"{host} resolves to {address}, {kind}{_ALLOW_HINT}"
    return None


def base_url_problem(base_url: str) -> str | None:
    """Why `base_url` cannot be an integration's baseUrl, as a sentence starting with "baseUrl",
    or None. Surrounding spaces are ignored (the admin strips them)."""
    url = (base_url or "").strip()
    if not url:
        return "baseUrl is empty"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in url):
        return "baseUrl contains spaces, line breaks, control characters or a backslash"
    parts = urlsplit(url)
    if "?" in url:
        return "baseUrl must not have a query (?...)"
    if "#" in url:
        return "baseUrl must not have a fragment (#...)"
    return _location_problem(parts, "baseUrl")


def request_url_problem(url: str) -> str | None:
    """Why a request to `url` (a baseUrl with a path and parameters) must not be sent, or None."""
    return _location_problem(urlsplit(url), "the request's URL")


def _location_problem(parts: SplitResult, what: str) -> str | None:
    if parts.scheme.lower() not in ("http", "https"):
        return f"{what} must start with http:// or https://"
    if "@" in parts.netloc:
        return f"{what} must not contain a user name or password (user:password@)"
    try:
        port = parts.port
    except ValueError:
        return f"{what} has an invalid port"
    if port == 0:
        return f"{what} has an invalid port"
    if not parts.hostname:
        return f"{what} has no host"
    problem = host_problem(parts.hostname)
    return f"{what}'s host {problem}" if problem else None


def host_key(url: str | None) -> tuple[str, int | None]:
    """The host (and port, when given) a URL's requests go to: the credentials stored for one are
    never sent to another (providers.admin)."""
    parts = urlsplit((url or "").strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    return _normal_name(parts.hostname or ""), port


def shown_url(url: str | None) -> str:
    """`url` as a page may show it: without user info (user:password@), query or fragment, which
    may carry credentials in rows written before the baseUrl was checked."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if not parts.netloc:
        return text.split("?", 1)[0].split("#", 1)[0]
    netloc = parts.netloc.rsplit("@", 1)[-1]
    hidden = "***@" if "@" in parts.netloc else ""
    cut = " (query not shown)" if parts.query or parts.fragment else ""
    return f"{parts.scheme}://{hidden}{netloc}{parts.path}{cut}"


def _normal_name(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _address_or_none(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(_normal_name(text).split("%", 1)[0])
    except ValueError:
        return None


def _embedded_ipv4(address: Address) -> Address:
    """The IPv4 address an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address
    reaches; the address itself otherwise."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _inet_aton_or_none(name: str) -> bytes | None:
    try:
        return socket.inet_aton(name)
    except OSError:
        return None


def _idna(name: str) -> str:
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


# -- enforcement in the HTTP session -----------------------------------------------------------


class _GuardedConnectionMixin:
    """Resolves the host once, checks every address, and connects to those addresses only."""

    def _new_conn(self) -> socket.socket:
        conn: HTTPConnection = self  # type: ignore[assignment]
        try:
            found = socket.getaddrinfo(conn._dns_host.strip("[]"), conn.port, allowed_gai_family(), socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(conn.host, conn, exc) from exc
        problem = destination_problem(conn.host, [str(info[4][0]) for info in found])
        if problem:
            raise _Refused(problem)
        error: OSError | None = None
        for family, kind, proto, _, address in found:
            sock = socket.socket(family, kind, proto)
            try:
                for option in conn.socket_options or ():
                    sock.setsockopt(*option)
                if conn.timeout is not _DEFAULT_TIMEOUT:
                    sock.settimeout(conn.timeout)
                if conn.source_address:
                    sock.bind(conn.source_address)
                sock.connect(address)
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeoutError(
                    conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
                ) from exc
            except OSError as exc:
                sock.close()
                error = exc
                continue
            sys.audit("http.client.connect", conn, conn.host, conn.port)
            return sock
        raise NewConnectionError(conn, f"Failed to establish a new connection: {error}") from error


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """requests' adapter with the address rule: the URL's host before sending, the resolved
    addresses when a connection is opened."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }

    def send(self, request, *args, **kwargs):
        problem = request_url_problem(request.url or "")
        if problem:
            raise AddressNotAllowed(f"not sent: {problem}", request=request)
        try:
            return super().send(request, *args, **kwargs)
        except _Refused as exc:
            raise AddressNotAllowed(f"not sent: {exc}", request=request) from None


def build_session(pool_size: int) -> requests.Session:
    """The session of one integration's client: keep-alive connections, only to the addresses
    allowed here, its pool as large as the requests the run sends to that integration at once
    (more would be opened and closed again for nothing)."""
    session = requests.Session()
    # Retries are ours (tenacity, providers.http), so urllib3 must not retry behind our back.
    adapter = GuardedAdapter(pool_connections=1, pool_maxsize=max(pool_size, 1), max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
