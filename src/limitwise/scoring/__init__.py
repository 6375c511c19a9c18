"""Credit scoring: scorecards trained with optbinning, frozen to plain JSON for serving.

Training (``train``, ``synthetic``, ``report``) needs the optional ``train`` extra; serving
(``artifact``, ``serve``, ``metrics``, ``behaviour``) needs only the core dependencies.
"""
