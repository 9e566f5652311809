"""providers.admin_lookups: the lookups a list's filters offer, and a query the database refuses
answered by the admin itself (PostgreSQL: DataError for a bad regular expression, the driver's
ValueError for a NUL; SQLite: an OperationalError), never a server error."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from orders.admin import CheckErrorFilter, IntegrationFilter
from providers.admin_lookups import OfferedLookupsOnly, offered_lookups
from providers.models import Integration


def test_offered_lookups_are_the_filters_parameters():
    assert offered_lookups(("provider", IntegrationFilter, ("enabled", admin.BooleanFieldListFilter))) == {
        "provider",
        "provider__exact",
        "provider__isnull",
        "integration",
        "enabled",
        "enabled__exact",
        "enabled__isnull",
    }
    assert offered_lookups([CheckErrorFilter]) == {"check_error"}


class EverythingAllowed(OfferedLookupsOnly, admin.ModelAdmin):
    """As if a filter offered any lookup: what the database then does is the question."""

    def lookup_allowed(self, lookup, value, request=None):
        return True


REFUSED_EVERYWHERE = [{"name__regex": "("}, {"name__regex": "["}]
# SQLite stores and compares a NUL; PostgreSQL's driver refuses it.
REFUSED_BY_POSTGRES = [pytest.param({"name": "x\x00"}, marks=pytest.mark.postgres, id="nul")]


@pytest.mark.parametrize("params", REFUSED_EVERYWHERE + REFUSED_BY_POSTGRES)
def test_a_query_the_database_refuses_is_the_admins_incorrect_lookup_answer(admin_user, params):
    Integration.objects.create(name="znet", provider="znet")
    model_admin = EverythingAllowed(Integration, admin.site)
    request = RequestFactory().get("/integrations/", params)
    request.user = admin_user

    response = model_admin.changelist_view(request)

    assert response.status_code == 302 and response["Location"] == "/integrations/?e=1"
    assert Integration.objects.count() == 1  # the connection is still usable


def test_an_offered_lookup_with_a_good_value_lists_the_rows(admin_user):
    Integration.objects.create(name="znet", provider="znet")
    request = RequestFactory().get("/integrations/", {"name__regex": "^zn"})
    request.user = admin_user

    response = EverythingAllowed(Integration, admin.site).changelist_view(request)

    assert response.status_code == 200
    assert "znet" in response.rendered_content
