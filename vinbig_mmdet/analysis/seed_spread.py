"""Effects measured over training seeds: an effect smaller than the spread over seeds is no difference."""
import statistics
from typing import Dict, Sequence, Tuple


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def verdict(baseline: Sequence[float], method: Sequence[float]) -> Dict[str, object]:
    """Effect = mean(method) - mean(baseline); spread = the larger standard deviation over seeds of the two.
    |effect| <= spread is "no difference"; with one value per side there is no spread to judge by."""
    (mb, sb), (mm, sm) = mean_std(baseline), mean_std(method)
    effect, spread = mm - mb, max(sb, sm)
    if len(baseline) < 2 and len(method) < 2:
        word = 'one seed: no spread to judge'
    else:
        word = 'no difference' if abs(effect) <= spread else ('better' if effect > 0 else 'worse')
    return dict(baseline=f'{mb:.4f} +- {sb:.4f}', result=f'{mm:.4f} +- {sm:.4f}', effect=round(effect, 4),
                spread=round(spread, 4), verdict=word)
