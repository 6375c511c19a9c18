"""Publishing, listing, loading and rolling back policy versions. Services never commit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from limitwise.kit.clock import Clock
from limitwise.kit.errors import Conflict, NotFound, Refused
from limitwise.policy import repository
from limitwise.policy.compiled import Policy
from limitwise.policy.diff import Change, diff_bundles
from limitwise.policy.models import PolicyActivation, PolicyVersion
from limitwise.policy.schemas import PolicyVersionView
from limitwise.policy.validate import load_text


def publish(
    session: Session,
    clock: Clock,
    *,
    source_yaml: str,
    source_name: str = "<policy>",
    published_by: str = "cli",
) -> tuple[PolicyVersionView, bool]:
    """Validate and store a bundle as an immutable version and make it the active one.

    Publishing the same content again is a no-op (returns ``created=False``); the same key
    and version with different content is a :class:`Conflict`: versions never change.
    """
    policy = load_text(source_yaml, source=source_name)
    existing = repository.find_version(session, policy_key=policy.key, version=policy.version)
    if existing is not None:
        if existing.content_hash != policy.content_hash:
            raise Conflict(
                f"{policy.key} version {policy.version} is already published with hash "
                f"{existing.content_hash[:12]}; publish changes under a new version",
                code="policy_version_exists",
            )
        return _view(session, existing), False
    row = PolicyVersion(
        policy_key=policy.key,
        version=policy.version,
        content_hash=policy.content_hash,
        description=policy.bundle.description.strip(),
        source_yaml=source_yaml,
        published_at=clock.now(),
        published_by=published_by,
    )
    repository.add(session, row)
    _activate(session, clock, row, reason=f"published {policy.version}")
    return _view(session, row), True


def list_versions(session: Session, *, policy_key: str | None = None) -> list[PolicyVersionView]:
    return [_view(session, row) for row in repository.versions(session, policy_key=policy_key)]


def show(
    session: Session, *, policy_key: str, version: str | None = None
) -> tuple[PolicyVersionView, str]:
    """A version (the active one by default) and its YAML source."""
    row = _find(session, policy_key=policy_key, version=version)
    return _view(session, row), row.source_yaml


def load_policy(session: Session, *, policy_key: str, version: str | None = None) -> Policy:
    """Compile a stored version, refusing it if its content no longer matches its hash."""
    row = _find(session, policy_key=policy_key, version=version)
    policy = load_text(row.source_yaml, source=f"{policy_key}@{row.version}")
    if policy.content_hash != row.content_hash:
        raise Refused(
            f"{policy_key}@{row.version} does not match its stored hash", code="policy_tampered"
        )
    return policy


def rollback(
    session: Session, clock: Clock, *, policy_key: str, to_version: str | None = None
) -> PolicyVersionView:
    """Re-activate ``to_version``, or by default the version that was active before."""
    history = repository.activations(session, policy_key=policy_key)
    if not history:
        raise NotFound(f"no policy {policy_key} is published", field="policy_key")
    if to_version is not None:
        target = _find(session, policy_key=policy_key, version=to_version)
    else:
        current = history[0].version_id
        earlier = next((a.version_id for a in history if a.version_id != current), None)
        if earlier is None:
            raise Refused(
                f"{policy_key} has no earlier version to roll back to", code="nothing_to_roll_back"
            )
        found = repository.get_version(session, earlier)
        assert found is not None
        target = found
    _activate(session, clock, target, reason=f"rolled back to {target.version}")
    return _view(session, target)


def diff_versions(session: Session, *, policy_key: str, old: str, new: str) -> list[Change]:
    before = load_policy(session, policy_key=policy_key, version=old)
    after = load_policy(session, policy_key=policy_key, version=new)
    return diff_bundles(before.bundle, after.bundle)


def _find(session: Session, *, policy_key: str, version: str | None) -> PolicyVersion:
    row = (
        repository.active_version(session, policy_key=policy_key)
        if version is None
        else repository.find_version(session, policy_key=policy_key, version=version)
    )
    if row is None:
        what = f"{policy_key}@{version}" if version else f"an active {policy_key}"
        raise NotFound(f"no policy version {what}", field="policy")
    return row


def _activate(session: Session, clock: Clock, row: PolicyVersion, *, reason: str) -> None:
    repository.add(
        session,
        PolicyActivation(
            policy_key=row.policy_key, version_id=row.id, activated_at=clock.now(), reason=reason
        ),
    )


def _view(session: Session, row: PolicyVersion) -> PolicyVersionView:
    active = repository.active_version(session, policy_key=row.policy_key)
    return PolicyVersionView(
        policy_key=row.policy_key,
        version=row.version,
        content_hash=row.content_hash,
        description=row.description,
        published_at=row.published_at,
        published_by=row.published_by,
        active=active is not None and active.id == row.id,
    )
