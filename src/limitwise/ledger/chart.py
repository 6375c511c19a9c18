"""The lender's chart of accounts.

Per credit account: principal, interest, penalty and fee receivable (assets) and a credit
balance for overpayments (a liability). Lender-wide: funding/settlement (cash that leaves
on a draw and returns on a repayment), interest, penalty and fee income, and write-off.
The principal account's debit limit is the credit line: outstanding principal plus pending
draws can never exceed it.
"""

from __future__ import annotations

from enum import StrEnum

from limitwise.ledger.models import AccountKind


class CreditPurpose(StrEnum):
    PRINCIPAL = "principal"
    INTEREST = "interest"
    PENALTY = "penalty"
    FEE = "fee"
    CREDIT_BALANCE = "credit_balance"


class LenderPurpose(StrEnum):
    FUNDING = "funding"
    INTEREST_INCOME = "interest_income"
    PENALTY_INCOME = "penalty_income"
    FEE_INCOME = "fee_income"
    WRITE_OFF = "write_off"


CREDIT_ACCOUNT_KINDS: dict[CreditPurpose, AccountKind] = {
    CreditPurpose.PRINCIPAL: AccountKind.ASSET,
    CreditPurpose.INTEREST: AccountKind.ASSET,
    CreditPurpose.PENALTY: AccountKind.ASSET,
    CreditPurpose.FEE: AccountKind.ASSET,
    CreditPurpose.CREDIT_BALANCE: AccountKind.LIABILITY,
}

LENDER_ACCOUNT_KINDS: dict[LenderPurpose, AccountKind] = {
    LenderPurpose.FUNDING: AccountKind.ASSET,
    LenderPurpose.INTEREST_INCOME: AccountKind.INCOME,
    LenderPurpose.PENALTY_INCOME: AccountKind.INCOME,
    LenderPurpose.FEE_INCOME: AccountKind.INCOME,
    LenderPurpose.WRITE_OFF: AccountKind.EXPENSE,
}


def credit_code(owner_ref: str, purpose: CreditPurpose) -> str:
    """Ledger account code of one credit account's book, e.g. ``credit:A:principal``."""
    return f"credit:{owner_ref}:{purpose.value}"


def lender_code(purpose: LenderPurpose) -> str:
    return f"lender:{purpose.value}"
