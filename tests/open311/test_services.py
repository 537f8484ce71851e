"""GET services and GET a service definition, in both formats, with their error cases."""

import pytest

from checklists.models import Item
from tests.factories import CityFactory
from tests.open311.conftest import (
    ATTRIBUTE_FIELDS,
    FORMATS,
    SERVICE_FIELDS,
    errors_of,
    members,
    parse,
    url,
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_lists_the_whistleable_items_with_the_spec_fields(client, org, fmt):
    Item.objects.filter(code="SAN-02").update(whistleable=False)
    Item.objects.filter(code="SAN-03").update(active=False)
    response = client.get(url("services", fmt), headers={"accept-language": "en"})
    assert response.status_code == 200
    rows = members(response, fmt, "services", "service")
    assert all(list(row) == SERVICE_FIELDS for row in rows)
    codes = [row["service_code"] for row in rows]
    expected = list(
        Item.objects.filter(whistleable=True, active=True)
        .order_by("aspect__order", "order", "code")
        .values_list("code", flat=True)
    )
    assert codes == expected and "SAN-01" in codes
    assert "SAN-02" not in codes and "SAN-03" not in codes
    san = next(row for row in rows if row["service_code"] == "SAN-01")
    item = Item.objects.select_related("aspect").get(code="SAN-01")
    assert san["service_name"] == item.name_en
    assert san["group"] == item.aspect.name_en
    assert san["type"] == "realtime"
    assert san["metadata"] in (True, "true")
    assert "SAN-01" in san["keywords"].split(",")


def test_services_are_named_in_the_requested_language(client, org):
    response = client.get(url("services", "json"), headers={"accept-language": "zh-hans"})
    item = Item.objects.select_related("aspect").get(code="SAN-01")
    san = next(row for row in parse(response, "json") if row["service_code"] == "SAN-01")
    assert (san["service_name"], san["group"]) == (item.name_zh, item.aspect.name_zh)


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_lists_its_attributes(client, org, fmt):
    response = client.get(url("services/SAN-01", fmt), headers={"accept-language": "en"})
    assert response.status_code == 200
    if fmt == "json":
        definition = parse(response, fmt)
        assert list(definition) == ["service_code", "attributes"]
        attributes = definition["attributes"]
        assert all(list(attribute) == ATTRIBUTE_FIELDS for attribute in attributes)
        ticket = attributes[0]
        assert ticket["variable"] is True and ticket["required"] is False
        assert ticket["order"] == 1
        service_code = definition["service_code"]
    else:
        root = parse(response, fmt)
        assert root.tag == "service_definition"
        assert [child.tag for child in root] == ["service_code", "attributes"]
        attributes = root.find("attributes")
        assert all(child.tag == "attribute" for child in attributes)
        assert all([f.tag for f in attribute] == ATTRIBUTE_FIELDS for attribute in attributes)
        ticket = {field.tag: field.text for field in attributes[0]}
        assert (ticket["variable"], ticket["required"], ticket["order"]) == ("true", "false", "1")
        service_code = root.findtext("service_code")
    assert service_code == "SAN-01"
    assert ticket["code"] == "HOTLINE_TICKET" and ticket["datatype"] == "string"
    item = Item.objects.get(code="SAN-01")
    if item.legal_basis_en:
        basis = attributes[1] if fmt == "json" else {f.tag: f.text for f in attributes[1]}
        assert basis["code"] == "LEGAL_BASIS"
        assert basis["variable"] in (False, "false")
        assert basis["description"] == item.legal_basis_en


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_or_unlisted_service_definition_is_404(client, org, fmt):
    Item.objects.filter(code="SAN-02").update(whistleable=False)
    for code in ("NOPE-99", "SAN-02"):
        response = client.get(url(f"services/{code}", fmt))
        assert response.status_code == 404
        assert errors_of(response, fmt)[0]["code"] == 404


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("resource", ["services", "services/SAN-01"])
def test_unknown_jurisdiction_is_404(client, org, fmt, resource):
    response = client.get(url(resource, fmt), {"jurisdiction_id": "NOWHERE"})
    assert response.status_code == 404
    [error] = errors_of(response, fmt)
    assert error["code"] == 404 and "jurisdiction_id" in error["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_jurisdiction_is_required_when_there_are_several_cities(client, org, fmt):
    CityFactory(code="ZZ")
    response = client.get(url("services", fmt))
    assert response.status_code == 400
    assert errors_of(response, fmt)[0]["code"] == 400
    named = client.get(url("services", fmt), {"jurisdiction_id": org.city.code})
    assert named.status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_wrong_method_is_refused_in_the_spec_format(client, org, fmt):
    response = client.post(url("services", fmt))
    assert response.status_code == 405
    assert errors_of(response, fmt)[0]["code"] == 405


def test_an_unknown_format_is_not_served(client, org):
    assert client.get("/open311/v2/services.csv").status_code == 404
