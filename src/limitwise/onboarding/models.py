"""Onboarding tables. No column holds a plaintext identifier.

Identifiers live encrypted in ``applications.pii_token`` (see :mod:`limitwise.onboarding.pii`)
and are found through HMAC blind indexes (``*_index``); what people see is masked.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from limitwise.kit.db import Base, BigId


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_ref: Mapped[str] = mapped_column(String(48), unique=True)
    status: Mapped[str] = mapped_column(String(24))
    policy_version: Mapped[str] = mapped_column(String(64))
    business_date: Mapped[dt.date] = mapped_column(Date)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: Blind index of the resident ID: finds the person's applications, detects duplicates.
    person_index: Mapped[str] = mapped_column(String(64), index=True)
    mobile_index: Mapped[str] = mapped_column(String(64), index=True)
    card_index: Mapped[str] = mapped_column(String(64), index=True)
    #: Encrypted JSON of every identifier submitted (name, ID, mobile, card, plate, VIN).
    pii_token: Mapped[str] = mapped_column(Text)
    pii_key_id: Mapped[str] = mapped_column(String(32), index=True)
    masked_resident_id: Mapped[str] = mapped_column(String(32))
    age_years: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(String(6))
    declared_monthly_income_fen: Mapped[int] = mapped_column(BigInteger)
    #: Every input as submitted, identifiers masked.
    inputs_json: Mapped[str] = mapped_column(Text)
    #: Reasons and the facts bundle handed to the line decision.
    outcome_json: Mapped[str] = mapped_column(Text)
    duplicate_of_ref: Mapped[str | None] = mapped_column(String(48))


class ApplicationCheck(Base):
    __tablename__ = "application_checks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    name: Mapped[str] = mapped_column(String(48))
    #: None when the check could not be made (its data was missing).
    passed: Mapped[bool | None] = mapped_column(Boolean)
    code: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(300))


class ConsentRecord(Base):
    """A purpose-bound consent: what the applicant agreed to, which text, when."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consent_ref: Mapped[str] = mapped_column(String(48), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    person_index: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    text_version: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Invitation(Base):
    """The pre-approved / invitation list (白名单), keyed by the resident ID's blind index."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_index: Mapped[str] = mapped_column(String(64), unique=True)
    masked_resident_id: Mapped[str] = mapped_column(String(32))
    campaign: Mapped[str] = mapped_column(String(64))
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
