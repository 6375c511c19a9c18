"""Which record source each provider uses: the local files or the HTTP services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from limitwise.kit.errors import InvalidInput
from limitwise.kit.settings import Settings, get_settings
from limitwise.providers.base import RecordSource
from limitwise.providers.http import HttpRecordSource, make_client
from limitwise.providers.local import FileRecordSource, LocalVehicleSource, answer_realname

SAMPLE_DATA_DIR = Path(__file__).resolve().parent / "sample_data"


@dataclass(frozen=True)
class ProviderSources:
    realname: RecordSource
    bureau: RecordSource
    income: RecordSource
    vehicle: RecordSource
    macro: RecordSource


def local_sources(data_dir: Path = SAMPLE_DATA_DIR) -> ProviderSources:
    """The file-backed adapters; the file formats are described in docs/onboarding.md."""
    return ProviderSources(
        realname=FileRecordSource(
            data_dir / "realname.json",
            key_field="resident_id",
            query_key="resident_id",
            answer=answer_realname,
        ),
        bureau=FileRecordSource(
            data_dir / "bureau.csv", key_field="resident_id", query_key="resident_id"
        ),
        income=FileRecordSource(
            data_dir / "income.json", key_field="resident_id", query_key="resident_id"
        ),
        vehicle=LocalVehicleSource(data_dir / "vehicles.csv", data_dir / "vehicle_prices.csv"),
        macro=FileRecordSource(data_dir / "macro.csv", key_field="index", query_key="index"),
    )


def http_sources(base_url: str, *, timeout_seconds: float, api_key: str = "") -> ProviderSources:
    """The HTTP adapters: one client, one path per provider."""
    client = make_client(base_url, timeout_seconds=timeout_seconds, api_key=api_key)
    return ProviderSources(
        realname=HttpRecordSource(client, "realname/verify"),
        bureau=HttpRecordSource(client, "bureau/report"),
        income=HttpRecordSource(client, "income/verify"),
        vehicle=HttpRecordSource(client, "vehicle/check"),
        macro=HttpRecordSource(client, "macro/latest"),
    )


def sources_from_settings(settings: Settings | None = None) -> ProviderSources:
    settings = settings or get_settings()
    if settings.provider_backend == "http":
        return http_sources(
            settings.provider_base_url,
            timeout_seconds=settings.provider_timeout_seconds,
            api_key=settings.provider_api_key,
        )
    if settings.provider_backend == "local":
        data_dir = Path(settings.provider_data_dir) if settings.provider_data_dir else None
        return local_sources(data_dir or SAMPLE_DATA_DIR)
    raise InvalidInput(
        f"unknown provider backend {settings.provider_backend!r} (use local or http)",
        field="provider_backend",
        code="provider_backend_unknown",
    )
