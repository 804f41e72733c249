"""Seeded random draws anyone can re-run (双随机一公开): `random.Random(seed)` over the
candidate ids sorted, as the random inspection draw does (db/inspection.py). The seed and
the candidate list are recorded with every draw, so the picks can be computed again, years
later, and must come out the same."""

import random
from collections.abc import Iterable, Mapping


def seeded_sample(seed: int, candidates: Iterable[str], size: int) -> list[str]:
    """`size` of the candidates (all of them when fewer), in the order drawn."""
    rng = random.Random(seed)  # noqa: S311 - a draw anyone can re-run, by design
    ordered = sorted(set(candidates))
    return rng.sample(ordered, min(size, len(ordered)))


def weighted_sample(
    rng: random.Random, candidates: Iterable[str], weights: Mapping[str, int], size: int
) -> list[str]:
    """`size` of the candidates without replacement, each drawn with a chance proportional to
    its weight among those left (a candidate without a weight weighs 1), in the order drawn:
    one `rng.random()` per pick over the candidates sorted by id."""
    left = sorted(set(candidates))
    picked: list[str] = []
    while left and len(picked) < size:
        total = sum(max(weights.get(c, 1), 1) for c in left)
        point = rng.random() * total
        for index, candidate in enumerate(left):
            point -= max(weights.get(candidate, 1), 1)
            if point < 0 or index == len(left) - 1:
                picked.append(left.pop(index))
                break
    return picked
