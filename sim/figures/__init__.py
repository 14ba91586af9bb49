"""Figures from stored results, in English or Chinese, one module per family.

- :mod:`sim.figures.style`: the one look (theme, fonts, design colours and line styles, units, phase
  shading, target lines, provenance) and :func:`~sim.figures.style.save`;
- :mod:`sim.figures.fonts`: a font with Chinese glyphs for ``lang="zh"``;
- :mod:`sim.figures.fans`: fan charts (median, 50% and 90% bands over replicates) and ``headline.png``;
- :mod:`sim.figures.differences`: each design minus the reference, paired by replicate;
- :mod:`sim.figures.targets`: the chance of meeting each 2027 target, per design;
- :mod:`sim.figures.sweeps`: Sobol and Morris indices, factorial heat maps, outcome against factor;
- :mod:`sim.figures.pilot`: the pilot office's estimate beside the true effects;
- :mod:`sim.figures.calibration`: the fit to the plan's 2023 figures.

Every function takes tidy tables (and a run's manifest) and returns matplotlib figures; none reads or
writes files except :func:`~sim.figures.style.save`. ``sim.report`` assembles them into a report.
"""

from .calibration import fit_figure
from .differences import difference_chart
from .fans import fan_chart, headline_figure
from .pilot import pilot_chart
from .style import apply_style, save
from .sweeps import factor_scatter, factorial_heatmaps, point_means, sensitivity_figures
from .targets import attainment_heatmap

__all__ = ["apply_style", "attainment_heatmap", "difference_chart", "factor_scatter", "factorial_heatmaps",
           "fan_chart", "fit_figure", "headline_figure", "pilot_chart", "point_means", "save",
           "sensitivity_figures"]
