"""The client's address: one notion for the login lockout, every rate limit and the audit trail.

Behind reverse proxies each proxy appends the address it saw to X-Forwarded-For, so the list
reads left to right from the client to the proxy nearest us, and REMOTE_ADDR is that nearest
proxy. Entries the client sent itself sit at the left and may be forged to dodge a limit, so
the address is read from the right, skipping only proxies we trust
(settings.WHISTLE_TRUSTED_PROXIES):

- a number N: N proxies stand in front of us; the client is the address the outermost one saw,
  the N-th entry from the right end of X-Forwarded-For + [REMOTE_ADDR];
- a list of networks (CIDR): walk from REMOTE_ADDR leftwards while the address belongs to a
  trusted network; the first one that does not is the client.

With no trusted proxy (0, the default) X-Forwarded-For is ignored and the socket's address
counts. WHISTLE_BEHIND_PROXY=1 without WHISTLE_TRUSTED_PROXIES means one proxy.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(value: str) -> str | None:
    """The address in an X-Forwarded-For entry (a port or brackets removed), None if it is
    not an IP address."""
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 192.0.2.1:443
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in networks)


def trusted_proxies() -> int | tuple[str, ...]:
    """The setting in effect: a count of proxy hops or the trusted networks."""
    configured = settings.WHISTLE_TRUSTED_PROXIES
    if isinstance(configured, int):
        if configured == 0 and settings.WHISTLE_BEHIND_PROXY:
            return 1
        return max(0, configured)
    return tuple(configured)


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address as far as our own proxies vouch for it."""
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = trusted_proxies()
    if not trusted or remote is None:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    chain = [hop for hop in forwarded.split(",") if hop.strip()] + [remote]
    if isinstance(trusted, int):
        # Fewer entries than proxies: the outermost proxies that appended nothing were not
        # passed, and the left-most entry is what the first proxy on the way saw.
        chosen = chain[max(0, len(chain) - 1 - trusted)]
        return _address(chosen) or remote
    networks = _networks(trusted)
    for hop in reversed(chain):
        address = _address(hop)
        if address is None:  # garbage to the left of our proxies: stop at the last good one
            break
        remote = address
        if not _trusted(address, networks):
            return address
    return remote
