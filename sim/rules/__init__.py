"""Behavioural rules: pure functions of agent state and environment.

Each rule works on a scalar (one agent) or on numpy arrays (a whole
population) and imports nothing of the project, so both engines call the same
code. Find a rule by its agent: ``departments`` push work down and share data,
``cadres`` allocate time, burn out, quit and are hired, ``residents`` are
served, judge and take part; ``common`` holds the small forms they share
(logistic, monthly hazards, exponential adjustment).

Each decision of the month is one *stage function* (``@stage``, registered in
``common.STAGES``), built from these rules: the only rules the engines call.
"""

from . import cadres, common, departments, residents

__all__ = ["cadres", "common", "departments", "residents"]
