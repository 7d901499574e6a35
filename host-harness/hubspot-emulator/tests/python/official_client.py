"""Drives the emulator with HubSpot's official Python client (hubspot-api-client, which calls
the v3/v4 paths and deserialises every reply into its generated models, checking required
fields and types): contacts, deals, companies (create, search, upsert by a unique property),
contact-company associations with type ids, merge, archived listing and custom-object schemas.
Each step asserts what came back; any mismatch raises and exits non-zero.

Usage: python3 official_client.py BASE_URL TOKEN
"""

import sys

from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicFetchAssociationsBatchRequest,
)
from hubspot.crm.companies import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    SimplePublicObjectBatchInputUpsert,
)
from hubspot.crm.companies import PublicObjectSearchRequest as CompanySearch
from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyInput
from hubspot.crm.contacts import PublicMergeInput
from hubspot.crm.properties import PropertyCreate
from hubspot.crm.contacts import (
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealInput

base_url, token = sys.argv[1], sys.argv[2]
client = HubSpot(access_token=token, host=base_url)
contacts = client.crm.contacts

created = contacts.basic_api.create(
    SimplePublicObjectInputForCreate(
        properties={"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"}
    )
)
assert created.id and created.properties["email"] == "ada@example.com", created
assert created.created_at is not None and created.archived is False, created

read = contacts.basic_api.get_by_id(created.id, properties=["email", "firstname"])
assert read.id == created.id and read.properties["firstname"] == "Ada", read

updated = contacts.basic_api.update(
    created.id, SimplePublicObjectInput(properties={"city": "London"})
)
assert updated.properties["city"] == "London", updated

found = contacts.search_api.do_search(
    PublicObjectSearchRequest(
        filter_groups=[
            {"filters": [{"propertyName": "email", "operator": "EQ", "value": "ada@example.com"}]}
        ],
        properties=["email", "city"],
        limit=10,
    )
)
assert found.total == 1 and found.results[0].id == created.id, found

batch = contacts.batch_api.read(
    BatchReadInputSimplePublicObjectId(inputs=[{"id": created.id}], properties=["email"])
)
assert batch.status == "COMPLETE" and batch.results[0].id == created.id, batch

page = contacts.basic_api.get_page(limit=10, properties=["email"])
assert [c.id for c in page.results] == [created.id], page

lead_status = client.crm.properties.core_api.get_by_name("contacts", "hs_lead_status")
assert lead_status.name == "hs_lead_status" and lead_status.type == "enumeration", lead_status
assert lead_status.options, lead_status

pipelines = client.crm.pipelines.pipelines_api.get_all("deals")
assert pipelines.results and pipelines.results[0].stages, pipelines
pipeline = pipelines.results[0]

deal = client.crm.deals.basic_api.create(
    DealInput(
        properties={
            "dealname": "Order",
            "pipeline": pipeline.id,
            "dealstage": pipeline.stages[0].id,
            "amount": "1234.56",
        },
        associations=[
            {
                "to": {"id": created.id},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}],
            }
        ],
    )
)
assert deal.properties["dealname"] == "Order", deal

links = client.crm.associations.v4.batch_api.get_page(
    "deals",
    "contacts",
    BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": deal.id}]),
)
assert links.results and str(links.results[0].to[0].to_object_id) == created.id, links

owners = client.crm.owners.owners_api.get_page(limit=10)
assert owners.results is not None, owners
owner = client.crm.owners.owners_api.get_by_id(owners.results[0].id)
assert owner.email == owners.results[0].email, owner

companies = client.crm.companies
company = companies.basic_api.create(
    CompanyInput(properties={"name": "Müller GmbH", "domain": "mueller.de"})
)
assert company.properties["name"] == "Müller GmbH", company
found_company = companies.search_api.do_search(
    CompanySearch(
        filter_groups=[
            {"filters": [{"propertyName": "domain", "operator": "EQ", "value": "mueller.de"}]}
        ],
        properties=["name", "domain"],
    )
)
assert found_company.total == 1 and found_company.results[0].id == company.id, found_company

unique = client.crm.properties.core_api.create(
    "companies",
    PropertyCreate(
        name="xentral_id",
        label="xentral id",
        type="string",
        field_type="text",
        group_name="companyinformation",
        has_unique_value=True,
    ),
)
assert unique.has_unique_value is True, unique
for expected_new in (True, False):
    upserted = companies.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                SimplePublicObjectBatchInputUpsert(
                    id_property="xentral_id", id="A-1", properties={"name": "Nordwind AG"}
                )
            ]
        )
    )
    assert upserted.results[0].new is expected_new, upserted

primary = client.crm.associations.v4.basic_api.create(
    "contacts",
    created.id,
    "companies",
    company.id,
    [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)],
)
assert primary.labels == ["Primary"], primary
company_links = client.crm.associations.v4.batch_api.get_page(
    "contacts",
    "companies",
    BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": created.id}]),
)
types = sorted(t.type_id for t in company_links.results[0].to[0].association_types)
assert types == [1, 279], company_links
with_company = contacts.basic_api.get_by_id(created.id, properties=["associatedcompanyid"])
assert with_company.properties["associatedcompanyid"] == company.id, with_company

schemas = client.crm.schemas.core_api.get_all()
assert schemas.results == [], schemas

twin = contacts.basic_api.create(
    SimplePublicObjectInputForCreate(properties={"email": "ada.twin@example.com"})
)
merged = contacts.basic_api.merge(
    PublicMergeInput(primary_object_id=created.id, object_id_to_merge=twin.id)
)
assert merged.id not in (created.id, twin.id), merged
assert merged.properties["email"] == "ada@example.com", merged
old = contacts.basic_api.get_by_id(twin.id, properties=["hs_merged_object_ids"])
assert old.id == merged.id, old
assert old.properties["hs_merged_object_ids"] == f"{created.id};{twin.id}", old
created = merged

contacts.basic_api.archive(created.id)
try:
    contacts.basic_api.get_by_id(created.id)
    raise AssertionError("an archived contact is still read")
except ApiException as e:
    assert e.status == 404, e
archived = contacts.basic_api.get_page(archived=True, properties=["email"])
assert [c.id for c in archived.results] == [created.id], archived
assert archived.results[0].archived is True and archived.results[0].archived_at, archived

try:
    HubSpot(access_token="pat-not-a-token", host=base_url).crm.contacts.basic_api.get_page()
    raise AssertionError("a wrong token was accepted")
except ApiException as e:
    assert e.status == 401, e

print("ok")
