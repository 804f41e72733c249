"""The public models of the REST contract: below the services and the API, which both use them."""
