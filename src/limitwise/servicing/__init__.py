"""Loan servicing: products, draws, schedules, accrual, repayments, overdue and COB."""
