"""Ledger operations. Services never commit: callers own the transaction.

Every posting locks the customer accounts it touches (sorted by id), checks the legs
balance, the debit limits and the strict-normal-balance flags, then appends the entry with
a running balance on each of their legs. Lender-wide accounts (funding, income, write-off)
have no limit and no strictness to check, so a posting never locks or updates them: their
legs carry no running balance and their balance is the sum of their legs. A transaction
therefore only ever waits for the customer accounts it works on, and COB batches cannot
deadlock with live draws and repayments through the income accounts. Rejected postings
raise before writing anything.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy.orm import Session

from limitwise.kit.clock import Clock
from limitwise.kit.errors import InvalidInput, NotFound, Refused
from limitwise.kit.ids import new_id
from limitwise.kit.money import MAX_FEN, format_yuan
from limitwise.ledger import repository
from limitwise.ledger.chart import (
    CREDIT_ACCOUNT_KINDS,
    LENDER_ACCOUNT_KINDS,
    CreditPurpose,
    LenderPurpose,
    credit_code,
    lender_code,
)
from limitwise.ledger.models import AccountKind, HoldStatus
from limitwise.ledger.repository import AccountRow, HoldRow
from limitwise.ledger.schemas import AccountBalance, HoldView, Leg, PostedEntry, Share

DEBIT_NORMAL = {AccountKind.ASSET, AccountKind.EXPENSE}


class LimitExceeded(Refused):
    code = "exceeds_available_line"


class WouldOverdraw(Refused):
    code = "would_overdraw_account"


class UnbalancedEntry(InvalidInput):
    code = "unbalanced_entry"


# --- accounts ----------------------------------------------------------------------------


def open_account(
    session: Session,
    clock: Clock,
    *,
    code: str,
    kind: AccountKind,
    purpose: str,
    owner_ref: str | None = None,
    debit_limit_fen: int | None = None,
    strict_normal_balance: bool = False,
) -> AccountBalance:
    """Open one ledger account, or return it unchanged if that code already exists.

    An account without an owner is lender-wide: it keeps no stored balance, so it can have
    neither a debit limit nor a strict normal balance (nothing would check them)."""
    account = _ensure_account(
        session,
        clock,
        code=code,
        kind=kind,
        purpose=purpose,
        owner_ref=owner_ref,
        debit_limit_fen=debit_limit_fen,
        strict_normal_balance=strict_normal_balance,
    )
    return _balance_of(session, account)


def _ensure_account(
    session: Session,
    clock: Clock,
    *,
    code: str,
    kind: AccountKind,
    purpose: str,
    owner_ref: str | None = None,
    debit_limit_fen: int | None = None,
    strict_normal_balance: bool = False,
) -> AccountRow:
    """The account, opened if missing, without its balance: a lender-wide balance is a sum
    over every leg in the book, which opening a credit account must not pay for."""
    if owner_ref is None and (debit_limit_fen is not None or strict_normal_balance):
        raise InvalidInput(
            f"lender-wide account {code!r} cannot have a debit limit or a strict balance",
            field="owner_ref",
            code="lender_account_unchecked",
        )
    existing = repository.find_account(session, code)
    if existing is None:
        repository.insert_account(
            session,
            code=code,
            kind=kind.value,
            purpose=purpose,
            owner_ref=owner_ref,
            balance_fen=0,
            pending_debit_fen=0,
            debit_limit_fen=debit_limit_fen,
            strict_normal_balance=strict_normal_balance,
            created_at=clock.now(),
        )
        existing = repository.find_account(session, code)
        assert existing is not None
    return existing


def ensure_lender_accounts(session: Session, clock: Clock) -> None:
    """Open the lender-wide accounts (funding, income, write-off) if they are missing."""
    for purpose, kind in LENDER_ACCOUNT_KINDS.items():
        _ensure_account(session, clock, code=lender_code(purpose), kind=kind, purpose=purpose.value)


def open_credit_books(session: Session, clock: Clock, *, owner_ref: str, line_fen: int) -> None:
    """Open the per-credit-account books; the principal account is bounded by the line."""
    _check_line(line_fen)
    ensure_lender_accounts(session, clock)
    for purpose, kind in CREDIT_ACCOUNT_KINDS.items():
        _ensure_account(
            session,
            clock,
            code=credit_code(owner_ref, purpose),
            kind=kind,
            purpose=purpose.value,
            owner_ref=owner_ref,
            debit_limit_fen=line_fen if purpose is CreditPurpose.PRINCIPAL else None,
            strict_normal_balance=True,
        )


def set_line(session: Session, *, owner_ref: str, line_fen: int) -> None:
    """Change a credit account's line. A cut below outstanding only stops further draws."""
    _check_line(line_fen)
    code = credit_code(owner_ref, CreditPurpose.PRINCIPAL)
    account = repository.lock_accounts(session, [code]).get(code)
    if account is None:
        raise NotFound(f"no credit account {owner_ref!r}", field="account")
    account.debit_limit_fen = line_fen
    repository.write_back_accounts(session, [account])


def balance(session: Session, code: str) -> AccountBalance:
    account = repository.find_account(session, code)
    if account is None:
        raise NotFound(f"no ledger account {code!r}", field="account")
    return _balance_of(session, account)


def balances_of_owner(session: Session, owner_ref: str) -> dict[str, AccountBalance]:
    """A credit account's books keyed by purpose (``principal``, ``interest``, ...)."""
    return {
        row.purpose: _balance_of(session, row)
        for row in repository.accounts_of_owner(session, owner_ref)
    }


def all_balances(session: Session) -> list[AccountBalance]:
    return [_balance_of(session, row) for row in repository.all_accounts(session)]


# --- entries -----------------------------------------------------------------------------


def post_entry(
    session: Session,
    clock: Clock,
    *,
    kind: str,
    legs: Sequence[Leg],
    effective_date: dt.date | None = None,
    description: str = "",
) -> PostedEntry:
    """Append a balanced entry, enforcing debit limits and strict balances."""
    check_legs(legs)
    accounts = _lock_by_code(session, [leg.account_code for leg in legs])
    _check_limits(accounts, _net_by_code(legs))
    posted, _ = _append_entry(
        session,
        clock,
        kind=kind,
        legs=legs,
        accounts=accounts,
        effective_date=effective_date or clock.today(),
        description=description,
    )
    return posted


def transfer(
    session: Session,
    clock: Clock,
    *,
    debit_code: str,
    credit_code: str,
    amount_fen: int,
    kind: str = "transfer",
    effective_date: dt.date | None = None,
    description: str = "",
) -> PostedEntry:
    """Two-leg entry: debit one account, credit another by the same amount."""
    _check_amount(amount_fen)
    return post_entry(
        session,
        clock,
        kind=kind,
        legs=[Leg(debit_code, amount_fen), Leg(credit_code, -amount_fen)],
        effective_date=effective_date,
        description=description,
    )


def reverse(
    session: Session,
    clock: Clock,
    *,
    entry_ref: str,
    effective_date: dt.date | None = None,
    description: str = "",
) -> PostedEntry:
    """Post the mirror image of an entry, linked to it. Debit limits do not apply (a
    correction must always be possible), but a receivable still may not go negative."""
    original = repository.find_entry(session, entry_ref)
    if original is None:
        raise NotFound(f"no journal entry {entry_ref!r}", field="entry_ref")
    if original.reverses_entry_id is not None:
        raise Refused(
            f"entry {entry_ref} is itself a reversal; post a new entry instead",
            code="cannot_reverse_reversal",
            field="entry_ref",
        )
    if repository.is_reversed(session, original.id):
        raise Refused(
            f"entry {entry_ref} has already been reversed",
            code="already_reversed",
            field="entry_ref",
        )
    legs = [Leg(code, -amount) for code, amount in repository.legs_of_entry(session, original.id)]
    accounts = _lock_by_code(session, [leg.account_code for leg in legs])
    posted, _ = _append_entry(
        session,
        clock,
        kind=f"reversal:{original.kind}"[:32],
        legs=legs,
        accounts=accounts,
        effective_date=effective_date or clock.today(),
        description=description or f"reverses {entry_ref}",
        reverses=(original.id, original.entry_ref),
    )
    return posted


SHARE_REVERSAL_HEAD = "rev:"


def share_reversal_ref(entry_id: int, owner_key: int) -> str:
    """The ref of the entry reversing one owner's share of entry ``entry_id``; ``owner_key``
    is the id of the owner's first ledger account. Refs are unique in the journal, so a
    share is reversed at most once (``reverses_entry_id`` links an entry to its one whole
    reversal; a summary entry has a partial reversal per owner)."""
    return f"{SHARE_REVERSAL_HEAD}{entry_id}:{owner_key}"


def _owner_key(session: Session, owner_ref: str) -> int:
    accounts = repository.accounts_of_owner(session, owner_ref)
    if not accounts:
        raise NotFound(f"no ledger accounts of {owner_ref!r}", field="owner_ref")
    return min(account.id for account in accounts)


def live_shares(session: Session, *, owner_ref: str, ref_prefix: str) -> list[Share]:
    """The owner's shares, not yet reversed, of the entries whose ref starts with
    ``ref_prefix``, oldest first."""
    reversal_ref = (SHARE_REVERSAL_HEAD, f":{_owner_key(session, owner_ref)}")
    shares: dict[int, Share] = {}
    for entry_id, ref, kind, day, code, amount in repository.owner_legs_not_reversed(
        session, owner_ref=owner_ref, ref_prefix=ref_prefix, reversal_ref=reversal_ref
    ):
        share = shares.get(entry_id) or Share(entry_id, ref, kind, day, ())
        shares[entry_id] = Share(entry_id, ref, kind, day, (*share.legs, Leg(code, amount)))
    return list(shares.values())


def reverse_share(
    session: Session,
    clock: Clock,
    *,
    share: Share,
    owner_ref: str,
    offsets: Mapping[str, str],
    description: str = "",
) -> PostedEntry:
    """Partially reverse an entry: mirror the owner's legs in it, each against the account
    ``offsets`` names for its code (the income account a summary entry credited with the
    total). Like :func:`reverse`, no debit limit applies but a receivable may not go
    negative, and a share is reversed at most once (its reversal's ref is unique)."""
    reversal_ref = share_reversal_ref(share.entry_id, _owner_key(session, owner_ref))
    if repository.find_entry(session, reversal_ref) is not None:
        raise Refused(
            f"{owner_ref}'s share of entry {share.entry_ref} has already been reversed",
            code="already_reversed",
            field="entry_ref",
        )
    legs = [
        mirrored
        for leg in share.legs
        for mirrored in (
            Leg(leg.account_code, -leg.amount_fen),
            Leg(offsets[leg.account_code], leg.amount_fen),
        )
    ]
    accounts = _lock_by_code(session, [leg.account_code for leg in legs])
    posted, _ = _append_entry(
        session,
        clock,
        kind=f"reversal:{share.kind}"[:32],
        legs=legs,
        accounts=accounts,
        effective_date=clock.today(),
        description=description or f"reverses {owner_ref}'s share of {share.entry_ref}",
        entry_ref=reversal_ref,
    )
    return posted


def entry_ids(session: Session, refs: Iterable[str]) -> dict[str, int]:
    """Entry ids by ref (the journal's order)."""
    return repository.entry_ids_by_ref(session, refs)


# --- two-phase holds ---------------------------------------------------------------------


def reserve(
    session: Session,
    clock: Clock,
    *,
    debit_code: str,
    credit_code: str,
    amount_fen: int,
    kind: str = "draw",
) -> HoldView:
    """Reserve ``amount_fen`` of the debit account's limit without moving money yet."""
    _check_amount(amount_fen)
    accounts = _lock_by_code(session, [debit_code, credit_code])
    debit_account = accounts[debit_code]
    _check_limits(accounts, {debit_code: amount_fen})
    debit_account.pending_debit_fen += amount_fen
    hold_ref = new_id("hold")
    repository.insert_hold(
        session,
        hold_ref=hold_ref,
        debit_account_id=debit_account.id,
        credit_account_id=accounts[credit_code].id,
        amount_fen=amount_fen,
        status=HoldStatus.PENDING.value,
        kind=kind,
        created_at=clock.now(),
    )
    repository.write_back_accounts(session, [debit_account])
    return HoldView(hold_ref, debit_code, credit_code, amount_fen, HoldStatus.PENDING.value)


def post_hold(
    session: Session,
    clock: Clock,
    *,
    hold_ref: str,
    effective_date: dt.date | None = None,
    description: str = "",
) -> PostedEntry:
    """Turn a pending hold into a journal entry (the reservation was already checked)."""
    hold, accounts = _lock_pending_hold(session, hold_ref)
    debit_account = accounts[hold.debit_account_id]
    credit_account = accounts[hold.credit_account_id]
    debit_account.pending_debit_fen -= hold.amount_fen
    entry, entry_id = _append_entry(
        session,
        clock,
        kind=hold.kind,
        legs=[Leg(debit_account.code, hold.amount_fen), Leg(credit_account.code, -hold.amount_fen)],
        accounts={debit_account.code: debit_account, credit_account.code: credit_account},
        effective_date=effective_date or clock.today(),
        description=description,
    )
    repository.resolve_hold(
        session, hold.id, status=HoldStatus.POSTED.value, resolved_at=clock.now(), entry_id=entry_id
    )
    return entry


def void_hold(session: Session, clock: Clock, *, hold_ref: str) -> HoldView:
    """Release a pending hold without moving money."""
    hold, accounts = _lock_pending_hold(session, hold_ref)
    debit_account = accounts[hold.debit_account_id]
    debit_account.pending_debit_fen -= hold.amount_fen
    repository.write_back_accounts(session, [debit_account])
    repository.resolve_hold(
        session, hold.id, status=HoldStatus.VOIDED.value, resolved_at=clock.now()
    )
    credit_code = accounts[hold.credit_account_id].code
    return HoldView(
        hold.hold_ref, debit_account.code, credit_code, hold.amount_fen, HoldStatus.VOIDED.value
    )


# --- internals ---------------------------------------------------------------------------


def _check_line(line_fen: int) -> None:
    if not 0 <= line_fen <= MAX_FEN:
        raise InvalidInput(
            f"line must be between 0 and {format_yuan(MAX_FEN)}, got {format_yuan(line_fen)}",
            field="line",
            code="line_out_of_range",
        )


def _check_amount(amount_fen: int) -> None:
    if not 0 < amount_fen <= MAX_FEN:
        raise InvalidInput(
            f"amount must be greater than zero and at most {format_yuan(MAX_FEN)}",
            field="amount",
            code="amount_not_positive",
        )


def check_legs(legs: Sequence[Leg]) -> None:
    """Refuse an entry that does not balance, has fewer than two legs or a zero leg."""
    if len(legs) < 2:
        raise UnbalancedEntry("an entry needs at least two legs", field="legs")
    if any(leg.amount_fen == 0 for leg in legs):
        raise UnbalancedEntry("a leg's amount must not be zero", field="legs")
    if any(abs(leg.amount_fen) > MAX_FEN for leg in legs):
        raise UnbalancedEntry("a leg's amount is too large", field="legs")
    total = sum(leg.amount_fen for leg in legs)
    if total != 0:
        raise UnbalancedEntry(f"legs must sum to zero, they sum to {total} fen", field="legs")


def _net_by_code(legs: Sequence[Leg]) -> dict[str, int]:
    net: dict[str, int] = defaultdict(int)
    for leg in legs:
        net[leg.account_code] += leg.amount_fen
    return net


def _lock_by_code(session: Session, codes: Sequence[str]) -> dict[str, AccountRow]:
    accounts = repository.lock_accounts(session, codes)
    missing = sorted(set(codes) - accounts.keys())
    if missing:
        raise NotFound(f"no ledger account {missing[0]!r}", field="account")
    return accounts


def _check_limits(accounts: dict[str, AccountRow], net_by_code: dict[str, int]) -> None:
    for code, net in net_by_code.items():
        account = accounts[code]
        limit = account.debit_limit_fen
        if net > 0 and limit is not None:
            used = account.balance_fen + account.pending_debit_fen
            if used + net > limit:
                raise LimitExceeded(
                    f"{format_yuan(net)} exceeds the available line of "
                    f"{format_yuan(max(0, limit - used))}",
                    field="amount",
                )


def _check_strict_balance(account: AccountRow, new_balance: int) -> None:
    if not account.strict_normal_balance:
        return
    debit_normal = account.kind in DEBIT_NORMAL
    if (debit_normal and new_balance < 0) or (not debit_normal and new_balance > 0):
        raise WouldOverdraw(
            f"account {account.code} would go to {format_yuan(new_balance)}, "
            "past zero on its abnormal side",
            field="amount",
        )


def _append_entry(
    session: Session,
    clock: Clock,
    *,
    kind: str,
    legs: Sequence[Leg],
    accounts: dict[str, AccountRow],
    effective_date: dt.date,
    description: str,
    reverses: tuple[int, str] | None = None,
    entry_ref: str | None = None,
) -> tuple[PostedEntry, int]:
    """Write the entry (a fresh ref unless the caller names one), its legs with running
    balances, and the new account balances (of the accounts that keep one)."""
    new_balances = {code: row.balance_fen for code, row in accounts.items() if row.keeps_balance}
    leg_balances: list[int | None] = []
    for leg in legs:
        if leg.account_code not in new_balances:
            leg_balances.append(None)
            continue
        new_balances[leg.account_code] += leg.amount_fen
        leg_balances.append(new_balances[leg.account_code])
    for code, new_balance in new_balances.items():
        _check_strict_balance(accounts[code], new_balance)
    entry_ref = entry_ref or new_id("je")
    entry_id = repository.insert_entry(
        session,
        entry_ref=entry_ref,
        kind=kind,
        effective_date=effective_date,
        posted_at=clock.now(),
        description=description[:200],
        reverses_entry_id=reverses[0] if reverses is not None else None,
    )
    repository.insert_legs(
        session,
        [
            {
                "entry_id": entry_id,
                "account_id": accounts[leg.account_code].id,
                "amount_fen": leg.amount_fen,
                "balance_after_fen": after,
            }
            for leg, after in zip(legs, leg_balances, strict=True)
        ],
    )
    for code, new_balance in new_balances.items():
        accounts[code].balance_fen = new_balance
    repository.write_back_accounts(session, [accounts[code] for code in new_balances])
    posted = PostedEntry(
        entry_ref=entry_ref,
        kind=kind,
        effective_date=effective_date,
        legs=tuple(legs),
        reverses_entry_ref=reverses[1] if reverses is not None else None,
    )
    return posted, entry_id


def _lock_pending_hold(session: Session, hold_ref: str) -> tuple[HoldRow, dict[int, AccountRow]]:
    hold = repository.lock_hold(session, hold_ref)
    if hold is None:
        raise NotFound(f"no hold {hold_ref!r}", field="hold_ref")
    if hold.status != HoldStatus.PENDING:
        raise Refused(
            f"hold {hold_ref} is already {hold.status}", code="hold_not_pending", field="hold_ref"
        )
    accounts = repository.lock_account_ids(session, [hold.debit_account_id, hold.credit_account_id])
    return hold, accounts


def _balance_of(session: Session, account: AccountRow) -> AccountBalance:
    balance_fen = account.balance_fen
    if not account.keeps_balance:
        balance_fen = repository.leg_total(session, account.id)
    return AccountBalance(
        code=account.code,
        kind=account.kind,
        purpose=account.purpose,
        owner_ref=account.owner_ref,
        balance_fen=balance_fen,
        pending_debit_fen=account.pending_debit_fen,
        debit_limit_fen=account.debit_limit_fen,
    )


__all__ = [
    "CreditPurpose",
    "LenderPurpose",
    "LimitExceeded",
    "WouldOverdraw",
    "balance",
    "open_credit_books",
    "post_entry",
    "post_hold",
    "reserve",
    "reverse",
    "transfer",
    "void_hold",
]
