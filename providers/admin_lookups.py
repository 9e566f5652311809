"""The admin's lists accept only the lookups their own filters offer.

Django's admin applies any `?<field>__<lookup>=<value>` of the URL to its list, and a row that
shows up or not answers a question about a column the page never shows: `?pin_code__startswith=`
recovers a PIN one character at a time, `?sifre__regex=` a password. So a list accepts exactly the
parameters of its `list_filter` (and its search box, `q`, which searches columns that hold no
secret); anything else is refused for everyone with HTTP 400, the same answer whatever the value,
and the columns in `never_looked_up` are refused even if a filter on them were added later. A
refusal is one warning in the log (who, which lookup, never the value), not an error report.

A value the database cannot take (a NUL character, text where a number belongs) is the admin's
"incorrect lookup" answer (a redirect to the plain list), never a server error.

`secret_state` is the one summary every admin page gives of a stored secret (the integrations'
credentials, the webhook secret), so no page says more about one than about another.
"""

import logging
from collections.abc import Iterable

from django.contrib.admin import SimpleListFilter
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db import DatabaseError, router, transaction
from django.db.models.constants import LOOKUP_SEP
from django.views.defaults import bad_request

log = logging.getLogger(__name__)

# A shorter value shows no character at all: 2 of 4 would be half of it.
_SHOWN_ENDING_FROM_LENGTH = 8


def secret_state(value: str | None) -> str:
    """What a page may say about a stored secret: "not set", "set", "set, ends in 21"."""
    if not value:
        return "not set"
    if len(value) < _SHOWN_ENDING_FROM_LENGTH:
        return "set"
    return f"set, ends in {value[-2:]}"


def offered_lookups(list_filter: Iterable) -> frozenset[str]:
    """The URL parameters a `list_filter` sets: a SimpleListFilter's parameter_name; for a field,
    its own name (the "all values" filter), `__exact` (choices, booleans) and `__isnull`."""
    offered: set[str] = set()
    for item in list_filter:
        if isinstance(item, type) and issubclass(item, SimpleListFilter):
            offered.add(str(item.parameter_name))
            continue
        field = item[0] if isinstance(item, list | tuple) else item
        offered.update({field, f"{field}{LOOKUP_SEP}exact", f"{field}{LOOKUP_SEP}isnull"})
    return frozenset(offered)


class GuardedChangeList(ChangeList):
    """Runs the list's queries in a savepoint (a refused query must not break the request's
    transaction on PostgreSQL) and turns a value the database refuses into the admin's
    "incorrect lookup" answer."""

    def get_results(self, request):
        try:
            with transaction.atomic(using=router.db_for_read(self.model)):
                super().get_results(request)
                self.result_list = list(self.result_list)  # any error of the page's query, here
        except (DatabaseError, ValueError) as exc:
            # psycopg2 raises ValueError for a NUL character, PostgreSQL DataError for a bad value.
            raise IncorrectLookupParameters(exc) from exc


class OfferedLookupsOnly:
    """ModelAdmin mixin: only the lookups the list's filters offer, never one on a secret column."""

    # Columns no lookup may touch, whatever the filters (PINs, credentials).
    never_looked_up: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.split(LOOKUP_SEP, 1)[0] in self.never_looked_up:
            return False
        return lookup in offered_lookups(getattr(self, "list_filter", ()))

    def get_changelist(self, request, **kwargs):
        return GuardedChangeList

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)  # type: ignore[misc]
        except DisallowedModelAdminLookup as exc:
            # Django would log this as an error (one error report per probe): a warning is enough.
            log.warning("admin list of %s, user %s: %s", self.opts.model_name, request.user.pk, exc)  # type: ignore[attr-defined]
            return bad_request(request, exc)
