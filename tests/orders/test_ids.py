"""One reading of ids: an order id someone typed, the integration ids "providerId" holds as text."""

import uuid

import pytest

from orders.queries import NotAnId, integrations_by_id, parse_uuid, uuid_or_none
from providers.models import Integration

ID = uuid.UUID("3f0c1d52-8a7e-4d7b-9f61-0c2b5a7e9d11")


@pytest.mark.parametrize("text", [str(ID), str(ID).upper(), f"{{{ID}}}", ID.hex, ID])
def test_every_form_of_a_uuid_is_read_as_the_same_id(text):
    assert uuid_or_none(text) == ID
    assert parse_uuid(text) == ID


@pytest.mark.parametrize("text", ["", "12345", "not-a-uuid", None, f" {ID}"])
def test_text_that_is_no_uuid_is_none_or_one_clear_line(text):
    assert uuid_or_none(text) is None
    with pytest.raises(NotAnId) as raised:
        parse_uuid(text)
    assert str(raised.value) == f"{text!r} is not an order id (expected a UUID)"
    assert isinstance(raised.value, ValueError)


def test_the_error_names_what_was_expected():
    with pytest.raises(NotAnId, match=r"^'x' is not an integration id \(expected a UUID\)$"):
        parse_uuid("x", "an integration id")


@pytest.mark.django_db
def test_integrations_are_found_by_any_form_of_their_id_in_one_query(django_assert_num_queries):
    znet = Integration.objects.create(name="znet", provider="znet")
    texts = [str(znet.pk), str(znet.pk).upper(), "not-an-id", str(uuid.uuid4()), ""]

    with django_assert_num_queries(1):
        found = integrations_by_id(texts, ("id", "name"))

    assert found == {str(znet.pk): znet, str(znet.pk).upper(): znet}
    assert found[str(znet.pk)].name == "znet"
