from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from appraisal.settings import Settings
from appraisal.workflows import search_attributes


async def connect(settings: Settings) -> Client:
    return await Client.connect(settings.resolved_temporal_address(), namespace=settings.temporal_namespace)


async def _known_search_attributes(client: Client, namespace: str) -> set[str]:
    try:
        known = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
    except RPCError as err:
        if err.status == RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server
            return set()
        raise
    return set(known.custom_attributes)


async def register_search_attributes(client: Client, namespace: str) -> None:
    """Adds the product's search attributes the server does not know yet."""
    known = await _known_search_attributes(client, namespace)
    missing = {
        # SearchAttributeIndexedValueType numbers its members as the proto enum does.
        key.name: int(key.indexed_value_type)
        for key in search_attributes.ALL
        if key.name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)  # type: ignore[arg-type]
        )
