"""HTTP adapter: a provider reached over HTTP with httpx.

The query is POSTed as JSON to ``{base_url}/{path}``. ``200`` with a JSON object is the
record, ``404`` means "no record"; timeouts, connection failures, other statuses and bodies
that are not a JSON object raise :class:`SourceUnavailable` with a named reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from limitwise.providers.base import SourceUnavailable


class HttpRecordSource:
    def __init__(self, client: httpx.Client, path: str) -> None:
        self.client = client
        self.path = path.strip("/")

    @property
    def name(self) -> str:
        return f"http:{self.path}"

    def fetch(self, query: Mapping[str, str]) -> dict[str, Any] | None:
        try:
            response = self.client.post(f"/{self.path}", json=dict(query))
        except httpx.TimeoutException:
            raise SourceUnavailable("timeout") from None
        except httpx.TransportError as exc:
            raise SourceUnavailable(f"connection_failed: {type(exc).__name__}") from None
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.status_code != httpx.codes.OK:
            raise SourceUnavailable(f"http_status_{response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise SourceUnavailable("malformed_response: not JSON") from None
        if not isinstance(body, dict):
            raise SourceUnavailable("malformed_response: not a JSON object")
        return body


def make_client(base_url: str, *, timeout_seconds: float, api_key: str = "") -> httpx.Client:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout_seconds), headers=headers)
