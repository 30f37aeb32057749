"""The platform's programming interfaces: the JSON API under /api/v1 and the udata-compatible reading of
discussions under /api/1. On top of every other layer: serialisers and routes only, every rule asked of the same
services and permission checks as the HTML views."""
