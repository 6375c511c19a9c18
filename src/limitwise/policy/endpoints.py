"""``/v1/policies``: published line-policy versions, publishing one, and diffs (analysts)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from limitwise.api.runtime import Runtime, runtime
from limitwise.audit import service as audit
from limitwise.auth.principal import CurrentPrincipal
from limitwise.policy import service
from limitwise.policy.schemas import (
    PolicyChangeRead,
    PolicyPublish,
    PolicyPublished,
    PolicyVersionView,
)

router = APIRouter(prefix="/policies", tags=["policies"])
RuntimeDep = Annotated[Runtime, Depends(runtime)]
PolicyKey = Annotated[str, Path(max_length=64)]
Version = Annotated[str, Query(min_length=1, max_length=32)]


@router.get("")
def list_versions(rt: RuntimeDep) -> list[PolicyVersionView]:
    with rt.transaction() as (session, _clock):
        return service.list_versions(session)


@router.post("", status_code=201)
def publish(body: PolicyPublish, rt: RuntimeDep, principal: CurrentPrincipal) -> PolicyPublished:
    """Validate and publish a version, making it the active one (same content again: no-op)."""
    with rt.transaction() as (session, clock):
        view, created = service.publish(
            session, clock, source_yaml=body.source_yaml, published_by=principal.subject
        )
        audit.record(
            session,
            clock,
            actor=principal.subject,
            action="policy.publish",
            target=f"policy:{view.policy_key}@{view.version}",
            after=view.model_dump(mode="json"),
        )
    return PolicyPublished(version=view, created=created)


@router.get("/{policy_key}/diff")
def diff(
    policy_key: PolicyKey, old: Version, new: Version, rt: RuntimeDep
) -> list[PolicyChangeRead]:
    with rt.transaction() as (session, _clock):
        changes = service.diff_versions(session, policy_key=policy_key, old=old, new=new)
    return [PolicyChangeRead(**asdict(change)) for change in changes]
