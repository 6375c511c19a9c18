"""The trial balance: proves the ledger's invariants on any database."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from limitwise.kit.money import format_yuan
from limitwise.ledger import repository
from limitwise.ledger.service import DEBIT_NORMAL


@dataclass
class TrialBalance:
    entries_checked: int = 0
    accounts_checked: int = 0
    grand_total_fen: int = 0
    totals_by_purpose_fen: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_trial_balance(session: Session) -> TrialBalance:
    """Σ legs = 0 per entry and overall; running balances and cached balances agree with the
    legs (lender-wide accounts store neither: their balance is the sum of their legs, and
    they must store 0); pending holds agree with the accounts' reserved amounts; strict
    accounts stay on their normal side."""
    report = TrialBalance()
    for ref, total in repository.unbalanced_entries(session):
        report.problems.append(f"entry {ref} legs sum to {total} fen, not 0")
    for ref in repository.entries_with_fewer_than_two_legs(session):
        report.problems.append(f"entry {ref} has fewer than two legs")
    report.grand_total_fen = repository.grand_total_fen(session)
    if report.grand_total_fen != 0:
        report.problems.append(f"all legs sum to {report.grand_total_fen} fen, not 0")
    for code, leg_id, expected, recorded in repository.broken_running_balances(session):
        report.problems.append(
            f"account {code} leg {leg_id}: running balance {recorded} fen, expected {expected}"
        )
    leg_totals = repository.leg_totals_by_account(session)
    pending_totals = repository.pending_hold_totals(session)
    accounts = repository.all_accounts(session)
    report.accounts_checked = len(accounts)
    for account in accounts:
        from_legs = leg_totals.get(account.id, 0)
        if not account.keeps_balance:
            if account.balance_fen != 0:
                report.problems.append(
                    f"account {account.code}: lender-wide accounts store no balance, but "
                    f"{account.balance_fen} fen is stored (legs sum to {from_legs})"
                )
            account.balance_fen = from_legs
        elif from_legs != account.balance_fen:
            report.problems.append(
                f"account {account.code}: balance {account.balance_fen} fen but legs sum to "
                f"{from_legs}"
            )
        pending = pending_totals.get(account.id, 0)
        if pending != account.pending_debit_fen:
            report.problems.append(
                f"account {account.code}: {account.pending_debit_fen} fen reserved but pending "
                f"holds total {pending}"
            )
        if account.strict_normal_balance:
            debit_normal = account.kind in DEBIT_NORMAL
            if (debit_normal and account.balance_fen < 0) or (
                not debit_normal and account.balance_fen > 0
            ):
                report.problems.append(
                    f"account {account.code} is on its abnormal side: "
                    f"{format_yuan(account.balance_fen)}"
                )
        purpose_key = f"{'credit' if account.owner_ref else 'lender'}:{account.purpose}"
        report.totals_by_purpose_fen[purpose_key] = (
            report.totals_by_purpose_fen.get(purpose_key, 0) + account.balance_fen
        )
    for ref in repository.posted_holds_without_entry(session):
        report.problems.append(f"hold {ref} is posted but has no journal entry")
    report.entries_checked = repository.count_entries(session)
    return report
