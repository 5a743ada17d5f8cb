"""The serving policy on memory: a request whose settings would need more memory, or send more
figures, than the server allows is refused before any work, with a sentence naming the limit,
the variable that sets it and a setting that fits.

The estimate is the library's (`swinviz.budget.estimate`: arithmetic on the settings, from the
constants of the code it models); the limits are the server's (`app.limits.REQUEST_MB`,
`app.limits.RESPONSE_MB`, read once at start-up).
"""

from __future__ import annotations

from swinviz import budget
from swinviz.config import SwinConfig

from .limits import REQUEST_MB, REQUEST_MB_NAME, RESPONSE_MB, RESPONSE_MB_NAME


def request_limit_mb() -> float:
    """The memory one request may need, in MB (SWINVIZ_REQUEST_MB, default 600)."""
    return REQUEST_MB


def check_budget(cfg: SwinConfig | str, stage: int = 1, pair: int = 0, **options
                 ) -> budget.Estimate:
    """`swinviz.budget.check_budget` against the server's limits: the estimate when the run
    fits, else a BudgetError (a SettingsError) with the sentence. options: include_model,
    vary (see there)."""
    return budget.check_budget(cfg, stage, pair, limit_mb=REQUEST_MB, response_mb=RESPONSE_MB,
                               request_name=REQUEST_MB_NAME, response_name=RESPONSE_MB_NAME,
                               **options)


def evidence_fits(cfg: SwinConfig | str, stage: int = 1, pair: int = 0) -> str | None:
    """None when the run with its class evidence (one more forward and backward pass) fits the
    per-request limit, else the sentence saying why it is left out."""
    est = budget.estimate(cfg, stage, pair, evidence=True)
    if est.total <= REQUEST_MB * budget.MB:
        return None
    return (f"its backward pass would take this run to about {budget.human(est.total)}, over "
            f"the {REQUEST_MB:g} MB per-request limit ({REQUEST_MB_NAME}); a smaller input "
            f"size has it")
