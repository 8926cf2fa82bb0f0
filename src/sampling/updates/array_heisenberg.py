"""Array kernels of O(3) unit spins (the classical Heisenberg model), against numpy or cupy (`xp`), for
the array backend: state (R, N, 3), the same proposals as src.sampling.updates.cpu_heisenberg."""

from __future__ import annotations

from src.sampling.updates.array_kernels import TWO_PI


def unit_vectors(xp, rng, shape):
    """Uniform unit vectors, shape (*shape, 3): z uniform in [-1, 1], azimuth uniform."""
    z = 2.0 * rng.random(shape) - 1.0
    phi = TWO_PI * rng.random(shape)
    rho = xp.sqrt(xp.maximum(0.0, 1.0 - z * z))
    return xp.stack([rho * xp.cos(phi), rho * xp.sin(phi), z], axis=-1)


def normal_frame(xp, s):
    """Unit vectors e1, e2 normal to the unit vectors s (..., 3) and to each other."""
    use_x = xp.abs(s[..., 0:1]) < 0.9
    a = xp.where(use_x, xp.asarray([1.0, 0.0, 0.0]), xp.asarray([0.0, 1.0, 0.0]))
    e1 = a - (a * s).sum(axis=-1, keepdims=True) * s
    e1 = e1 / xp.sqrt((e1 * e1).sum(axis=-1, keepdims=True))
    return e1, xp.cross(s, e1)


def metropolis_heisenberg(xp, rng, state, betas, J: float, window: float, boards):
    """One checkerboard sweep: s' uniform in the cap of angular radius `window` about s, accepted with
    min(1, exp(-beta dE)), dE = -J (s' - s) . h. Returns the accepted proposals (a device scalar)."""
    cos_w = float(xp.cos(xp.asarray(min(window, float(xp.pi)))))
    accepted = 0
    for sites, nbrs in boards:
        h = state[:, nbrs].sum(axis=-2)  # (R, N/2, 3)
        old = state[:, sites]
        c = (1.0 - rng.random(old.shape[:2]) * (1.0 - cos_w))[..., None]
        phi = (TWO_PI * rng.random(old.shape[:2]))[..., None]
        e1, e2 = normal_frame(xp, old)
        t = xp.sqrt(xp.maximum(0.0, 1.0 - c * c))
        new = c * old + t * (xp.cos(phi) * e1 + xp.sin(phi) * e2)
        new = new / xp.sqrt((new * new).sum(axis=-1, keepdims=True))
        de = -J * ((new - old) * h).sum(axis=-1)
        ok = rng.random(de.shape) < xp.exp(xp.minimum(0.0, -betas[:, None] * de))
        state[:, sites] = xp.where(ok[..., None], new, old)
        accepted = accepted + ok.sum()
    return accepted
