"""ledger: the deferred balance check sums each entry once, not once per leg

Close of business posts one summary entry per partition and day (a debit leg per accruing
account, ten thousand legs and more). The deferred trigger fires once per leg at commit;
it summed the whole entry each time, quadratic in the entry's legs. It now remembers, for
the transaction, the last entry it checked and the highest leg id that check saw
(``limitwise.balanced_entry``, a transaction-local setting): a leg of that entry with an id
no higher was already counted, and is skipped. The check still runs at commit over every
entry a transaction touched, so a leg added to an old entry in a later transaction is still
checked. SQLite has no such trigger: nothing changes there.

Revision ID: 20261205_cob_summary_entries
Revises: 20261204_cob_ledger_indexes
Create Date: 2026-12-05 14:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261205_cob_summary_entries"
down_revision: str | None = "20261204_cob_ledger_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK_EACH_ENTRY_ONCE = """
CREATE OR REPLACE FUNCTION journal_entry_must_balance() RETURNS trigger AS $$
DECLARE
    total bigint;
    last_leg bigint;
    seen text := current_setting('limitwise.balanced_entry', true);
BEGIN
    IF seen IS NOT NULL AND seen <> ''
        AND split_part(seen, ':', 1)::bigint = NEW.entry_id
        AND NEW.id <= split_part(seen, ':', 2)::bigint THEN
        RETURN NULL;
    END IF;
    SELECT COALESCE(SUM(amount_fen), 0), MAX(id) INTO total, last_leg
        FROM journal_legs WHERE entry_id = NEW.entry_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: legs sum to % fen', NEW.entry_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM set_config('limitwise.balanced_entry', NEW.entry_id || ':' || last_leg, true);
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""

CHECK_EACH_LEG = """
CREATE OR REPLACE FUNCTION journal_entry_must_balance() RETURNS trigger AS $$
DECLARE total bigint;
BEGIN
    SELECT COALESCE(SUM(amount_fen), 0) INTO total FROM journal_legs WHERE entry_id = NEW.entry_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: legs sum to % fen', NEW.entry_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CHECK_EACH_ENTRY_ONCE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CHECK_EACH_LEG)
