"""Reason codes of the line service itself: why the applied line differs from the policy's
proposal, or why a status changed. The policy's own reasons come with their texts from the
policy bundle; these are the line service's, in the same shape."""

from __future__ import annotations

from typing import NamedTuple


class ReasonText(NamedTuple):
    en: str
    zh: str


LINE_REASONS: dict[str, ReasonText] = {
    "GRANTED": ReasonText(
        "A line was granted from your verified income and credit score.",
        "根据核实收入和信用评分授予额度。",
    ),
    "CUSTOMER_CAP": ReasonText(
        "Your lines across all products are at the per-customer maximum.",
        "您在所有产品上的额度合计已达单户上限。",
    ),
    "INCOME_CAP": ReasonText(
        "The line is limited by your verified income.", "额度受核实收入限制。"
    ),
    "PRODUCT_CAP": ReasonText("The line is at this product's maximum.", "额度已达本产品上限。"),
    "PRODUCT_MIN": ReasonText(
        "The line would be below this product's minimum.", "额度低于本产品最低额度。"
    ),
    "STEP_CAP": ReasonText(
        "Lines grow in limited steps; this is the largest step now.",
        "额度按步提升，本次已达单次最大提升幅度。",
    ),
    "INCREASE_LIMIT": ReasonText(
        "The line was already raised in this review cycle.", "本周期内额度已提升过。"
    ),
    "COOL_DOWN": ReasonText(
        "The line changed recently; it is not changed again so soon.",
        "额度近期刚调整过，暂不再次调整。",
    ),
    "HYSTERESIS": ReasonText(
        "The change would be too small to reverse the last one.",
        "变动幅度过小，不足以反向调整上次的变动。",
    ),
    "MINOR_LATE": ReasonText(
        "One short late payment, already repaid, does not cut the line.",
        "一次短期逾期且已还清，不因此降低额度。",
    ),
    "PRINCIPAL_FLOOR": ReasonText(
        "The line cannot go below what you owe; new draws wait until you repay.",
        "额度不低于未还本金；还款后方可再借。",
    ),
    "VEHICLE_REVALUED": ReasonText(
        "The car-owner line follows the vehicle's latest valuation.",
        "车主专享额度随车辆最新估值调整。",
    ),
    "RISK_CLEARED": ReasonText(
        "The risk that froze the line has cleared; draws are open again.",
        "冻结额度的风险已解除，可再次借款。",
    ),
    "NOTICE": ReasonText(
        "The change announced to you in advance takes effect today.",
        "此前提前通知您的额度调整今日生效。",
    ),
    "OPERATOR": ReasonText(
        "Changed by an operator with a recorded note.", "由运营人员调整并记录说明。"
    ),
}
