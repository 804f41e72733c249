"""Seeded random draws anyone can re-run (双随机一公开), the way the institution draw does it
(domain/commission.random_pick): SHA-256 over the seed and the sorted candidate list decides.
The seed and the candidate list are recorded with every draw, so the picks can be computed
again, years later, and must come out the same; with a seed nobody could choose in advance
(the service draws it at random), no candidate's place can be foreseen."""

import hashlib
from collections.abc import Iterable


def _key(seed: int, ordered: list[str], candidate: str) -> str:
    return hashlib.sha256(f"{seed}|{','.join(ordered)}|{candidate}".encode()).hexdigest()


def seeded_sample(seed: int, candidates: Iterable[str], size: int) -> list[str]:
    """`size` of the candidates (all of them when fewer), in the order drawn: the candidates
    ranked by SHA-256 of (seed, the sorted list, the candidate)."""
    ordered = sorted(set(candidates))
    return sorted(ordered, key=lambda c: _key(seed, ordered, c))[:size]
