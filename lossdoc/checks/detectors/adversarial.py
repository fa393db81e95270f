"""A GAN whose discriminator wins the game (DV004): its loss falls towards zero while the generator's climbs.

A GAN's two losses are not a loss to push down (LG005 keeps them out of the training loss), but one way they
move together is a known failure: the discriminator tells real from generated samples ever more surely (its
loss falls) while the generator's loss -- ``-log D(G(z))`` or its saturating form -- rises, because the
gradients the generator gets from a confident discriminator vanish. Both trends are tested (one-sided
Mann-Kendall: exact up to :data:`~lossdoc.analysis.stats.MK_EXACT_MAX_POINTS` points, Hamed-Rao corrected for
autocorrelation beyond), and both must be large: the discriminator's last quarter at most ``d-ratio`` of its
first quarter (medians), the generator's at least ``g-ratio`` of its first. The decision is the intersection
of the two (its p-value the larger of the two p-values), one decision per pair of sides.

Only losses above zero on both sides are judged (BCE, least squares, hinge after its clamp): a WGAN critic's
loss is signed, its generator's a raw score, and neither rises or falls in this way when the game tips.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np

from lossdoc.analysis.stats import MK_EXACT_MAX_POINTS, mann_kendall, mann_kendall_exact
from lossdoc.checks.detectors._common import fmt_num, fmt_step, lr_text, shown_lr
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.findings import Evidence
from lossdoc.checks.series import adversarial_role, side_key

def _pairs(sides: list[Series]) -> list[tuple[Series, Series]]:
    """(discriminator, generator) pairs: each discriminator with the only generator, the only discriminator with
    each generator, else discriminator and generator whose names differ only in their role (``D_A``, ``G_A``)."""
    disc = [s for s in sides if adversarial_role(s.metric, s.name) == "disc"]
    gen = [s for s in sides if adversarial_role(s.metric, s.name) in ("gen", "adv")]
    if not disc or not gen:
        return []
    if len(gen) == 1:
        return [(d, gen[0]) for d in disc]
    if len(disc) == 1:
        return [(disc[0], g) for g in gen]
    by_key = {side_key(g.metric, g.name): g for g in gen}
    keys = [(d, side_key(d.metric, d.name)) for d in disc]
    return [(d, by_key[k]) for d, k in keys if k and k in by_key]


def _quarters(v: np.ndarray) -> tuple[float, float]:
    q = max(1, int(round(v.size / 4)))
    return float(np.median(v[:q])), float(np.median(v[-q:]))


def _trend_p(v: np.ndarray) -> tuple[float, float, str]:
    """(p for a rise, p for a fall, method), one-sided."""
    if v.size <= MK_EXACT_MAX_POINTS:
        _, up, down = mann_kendall_exact(v)
        return up, down, "exact Mann-Kendall"
    mk = mann_kendall(v)
    return mk.pvalue_increasing, mk.pvalue_decreasing, "Mann-Kendall (Hamed-Rao)"


def adversarial_imbalance(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    for d, g in _pairs(ctx.adversarial("train")):
        (dst, dv), (gst, gv) = d.finite(), g.finite()
        if min(dv.size, gv.size) < p.min_points or np.any(dv <= 0) or np.any(gv <= 0):
            continue
        d_first, d_last = _quarters(dv)
        g_first, g_last = _quarters(gv)
        if d_last > p.d_ratio * d_first or g_last < p.g_ratio * g_first:
            continue
        g_up, _, method = _trend_p(gv)
        _, d_down, _ = _trend_p(dv)
        pval = max(g_up, d_down)  # both trends must hold: the intersection-union test's p-value
        if not math.isfinite(pval):
            continue
        start, end = int(min(dst[0], gst[0])), int(max(dst[-1], gst[-1]))
        at = int(gst[-1])
        lr = ctx.lr_at(at)
        lr_words = (f"lower the discriminator's learning rate to half the generator's (the log shows "
                    f"{shown_lr(lr)} in force at step {fmt_step(at)})" if lr else
                    "lower the discriminator's learning rate to half the generator's")
        msg = (f"the discriminator is winning: {d.label} fell from {fmt_num(d_first)} to {fmt_num(d_last)} while "
               f"{g.label} rose from {fmt_num(g_first)} to {fmt_num(g_last)} ({g_last / g_first:.1f}x; medians of the "
               f"first and last quarter of each, derived; {method} p={g_up:.2g} for the rise, p={d_down:.2g} for "
               f"the fall){lr_text(ctx, at)}: a discriminator this sure of itself leaves the generator little "
               "gradient to learn from")
        yield Hit(
            message=msg,
            evidence=Evidence(f"adversarial-imbalance ({method}, both trends)", g_last / g_first, p.g_ratio, pval,
                              (start, end), {"disc": d.name, "gen": g.name, "disc_first": d_first,
                                             "disc_last": d_last, "gen_first": g_first, "gen_last": g_last,
                                             "p_gen_rise": g_up, "p_disc_fall": d_down,
                                             "disc_ratio": d_last / d_first if d_first else None}),
            start_step=start, end_step=end, alpha=p.alpha, split="train", metric=g.metric,
            values={"disc": d.label, "gen": g.label, "disc_last": fmt_num(d_last), "gen_first": fmt_num(g_first),
                    "gen_last": fmt_num(g_last), "step": fmt_step(at), "lr_advice": lr_words},
        )


DETECTORS = {"adversarial-imbalance": adversarial_imbalance}
