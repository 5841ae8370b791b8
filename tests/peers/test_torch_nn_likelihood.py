"""PyTorch's own test cases of ``poisson_nll_loss`` and ``gaussian_nll_loss``, ported to
arrayloss (the same conventions as ``test_torch_nn.py``).

Sources (repository ``pytorch/pytorch``; torch 2.13 is the installed peer):

- ``torch/testing/_internal/common_nn.py``: ``poissonnllloss_no_reduce_test`` and the
  ``criterion_tests`` "PoissonNLLLoss_no_batch_dim" entries;
- ``torch/testing/_internal/common_modules.py``: ``module_inputs_torch_nn_PoissonNLLLoss`` and
  ``module_inputs_torch_nn_GaussianNLLLoss``;
- ``torch/testing/_internal/common_methods_invocations.py``: ``sample_inputs_`` and
  ``error_inputs_`` of ``nn.functional.poisson_nll_loss`` and ``gaussian_nll_loss``.

Every row id names its source as ``<file>::<function>::<case>``. torch draws its inputs at
random (``torch.randn``, ``torch.rand``, ``make_tensor`` uniform in [-9, 9], ``.abs()`` for
counts, rates and variances); here they are drawn with the same shapes and ranges from a
NumPy generator seeded by the row id, and the expected value is the installed
``torch.nn.functional`` in float64. Each row runs arrayloss on the torch tensors and on NumPy
copies (the two must agree).

Intentional differences, asserted as arrayloss's own behaviour: negative counts (torch's
``randn`` targets) raise ``ValueError`` and are compared under
``arrayloss.options(validate=False)``; a target of another shape than the input (torch
broadcasts it) raises ``ValueError``.
"""

from __future__ import annotations

import itertools
import re
import zlib
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from conftest import require_module

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CNN = "common_nn.py::get_new_module_tests::"
CRIT = "common_nn.py::criterion_tests::"
CMOD = "common_modules.py::"
CMI = "common_methods_invocations.py::"
S = 5  # torch.testing._internal.opinfo.core size
SHAPES_REDUCTIONS = list(itertools.product(((S,), (S, S), (S, S, S)), ("none", "mean", "sum")))


def _peer() -> tuple[Any, Any]:
    require_module("torch")
    import torch
    import torch.nn.functional as F

    return torch, F


def _rng(key: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(key.encode()))


def _np(x: Any) -> np.ndarray:
    return x.detach().cpu().double().numpy() if hasattr(x, "detach") else np.asarray(x)


def _close(got: Any, want: Any, rtol: float = 1e-10) -> None:
    g, w = _np(got), _np(want)
    assert g.shape == w.shape, f"shape {g.shape} != {w.shape}"
    np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn`` on the torch tensors and on NumPy copies: both must agree."""
    got = fn(*args, **kwargs)
    got_np = fn(*[_np(a) for a in args], **kwargs)
    assert isinstance(got_np, np.ndarray)
    _close(got_np, got)
    return got


def _draw(rng: np.random.Generator, kind: str, shape: tuple[int, ...]) -> np.ndarray:
    if kind == "randn":
        return rng.standard_normal(shape)
    if kind == "rand":
        return rng.uniform(0.0, 1.0, shape)
    if kind == "u9":  # make_tensor's default range
        return rng.uniform(-9.0, 9.0, shape)
    if kind == "abs9":  # make_tensor(...).abs()
        return np.abs(rng.uniform(-9.0, 9.0, shape))
    if kind == "abs9+":  # make_tensor(...).abs().add(0.001)
        return np.abs(rng.uniform(-9.0, 9.0, shape)) + 0.001
    if kind == "counts9":  # make_tensor(...).floor_().abs_()
        return np.abs(np.floor(rng.uniform(-9.0, 9.0, shape)))
    if kind == "var":  # make_tensor(low=0.1)
        return rng.uniform(0.1, 9.0, shape)
    raise AssertionError(kind)


# ---------------------------------------------------------------------------------------
# poisson_nll_loss


def _poisson_rows() -> list[tuple]:
    """(id, shape, options, reduction, input kind, target kind)."""
    rows: list[tuple] = [(CNN + "PoissonNLLLoss_no_reduce", (10, 10), {}, "none", "rand", "randn")]
    for r in ("none", "mean", "sum"):
        rows.append((CRIT + f"PoissonNLLLoss_no_batch_dim_{r}", (3,), {}, r, "randn", "randn"))
    for desc, opts in (("", {}), ("reduction_sum", {"reduction": "sum"}),
                       ("reduction_mean", {"reduction": "mean"}),
                       ("reduction_none", {"reduction": "none"}), ("full", {"full": True}),
                       ("no_log_input", {"log_input": False}),
                       ("full_no_log_input", {"full": True, "log_input": False})):
        o = dict(opts)
        r = o.pop("reduction", "mean")
        rows.append((CMOD + f"module_inputs_torch_nn_PoissonNLLLoss::{desc}", (2, 3, 4, 5), o, r,
                     "u9" if o.get("log_input", True) else "abs9+", "counts9"))
    for shape, r in SHAPES_REDUCTIONS:
        for li, full in itertools.product((True, False), (True, False)):
            key = CMI + f"sample_inputs_poisson_nll_loss::{shape}_{r}_li{li}_full{full}"
            eps = float(_rng(key).uniform(1e-8, 1e-3))  # random.uniform(1e-8, 1e-3) there
            for o in ({"log_input": li, "full": full},
                      {"log_input": li, "full": full, "eps": eps}):
                rows.append((key + ("_eps" if "eps" in o else ""), shape, o, r,
                             "u9" if li else "abs9", "abs9"))
    return rows


@pytest.mark.parametrize("case", _poisson_rows(), ids=lambda c: c[0])
def test_poisson_nll_loss_cases(case: tuple) -> None:
    torch, F = _peer()
    cid, shape, opts, reduction, ikind, tkind = case
    rng = _rng(cid)
    x = torch.tensor(_draw(rng, ikind, shape), dtype=torch.float64)
    y = torch.tensor(_draw(rng, tkind, shape), dtype=torch.float64)
    want = F.poisson_nll_loss(x, y, reduction=reduction, **opts)
    if bool((y < 0).any()):  # torch's randn counts: refused, the formula compared unchecked
        with pytest.raises(ValueError, match=r"poisson_nll_loss: `target` must hold values >= 0"):
            al.poisson_nll_loss(x, y, reduction=reduction, **opts)
        with al.options(validate=False):
            _close(_call(al.poisson_nll_loss, x, y, reduction=reduction, **opts), want)
        return
    _close(_call(al.poisson_nll_loss, x, y, reduction=reduction, **opts), want)


def test_error_inputs_poisson_nll_loss() -> None:
    """``error_inputs_poisson_nll_loss``: an invalid reduction, and shapes (5, 4) vs (5,),
    which torch reports as a broadcasting ``RuntimeError`` and arrayloss as ``ValueError``."""
    torch, _ = _peer()
    x = torch.rand(5, 4)
    with pytest.raises(ValueError, match=r"poisson_nll_loss: `reduction` must be one of.*'abc'"):
        al.poisson_nll_loss(x, torch.rand(5, 4), reduction="abc")
    with pytest.raises(ValueError, match=r"poisson_nll_loss: .*\(5, 4\).*\(5,\)"):
        al.poisson_nll_loss(x, torch.rand(5))


# ---------------------------------------------------------------------------------------
# gaussian_nll_loss


def _gen_shape(s: tuple[int, ...]) -> list[tuple[int, ...]]:
    """torch's ``gen_shape``: the shape, its last axis as 1, and without its last axis."""
    return [s, (*s[:-1], 1), s[:-1]]


def _gaussian_rows() -> list[tuple]:
    """(id, input shape, target shape, var shape, options, reduction, var kind)."""
    rows: list[tuple] = []
    for desc, r in (("", "mean"), ("reduction_sum", "sum"), ("reduction_mean", "mean"),
                    ("reduction_none", "none")):
        rows.append((CMOD + f"module_inputs_torch_nn_GaussianNLLLoss::{desc}", (4, 3), (4, 3),
                     (4, 1), {}, r, "abs9"))
    rows.append((CMOD + "module_inputs_torch_nn_GaussianNLLLoss::homoscedastic", (4, 3), (4, 3),
                 (1, 3), {}, "mean", "abs9"))
    for s, r in SHAPES_REDUCTIONS:
        for t_s, v_s in itertools.product(_gen_shape(s), _gen_shape(s)):
            key = CMI + f"sample_inputs_gaussian_nll_loss::{s}_{t_s}_{v_s}_{r}"
            eps = float(_rng(key).uniform(1e-6, 1e-3))  # random.uniform(1e-6, 1e-3) there
            for tag, o in (("", {}), ("_full", {"full": True}), ("_eps", {"eps": eps}),
                           ("_full_eps", {"full": True, "eps": eps})):
                rows.append((key + tag, s, t_s, v_s, o, r, "var"))
    return rows


@pytest.mark.parametrize("case", _gaussian_rows(), ids=lambda c: c[0])
def test_gaussian_nll_loss_cases(case: tuple) -> None:
    torch, F = _peer()
    cid, shape, t_shape, v_shape, opts, reduction, vkind = case
    rng = _rng(cid)
    x = torch.tensor(_draw(rng, "u9", shape), dtype=torch.float64)
    y = torch.tensor(_draw(rng, "u9", t_shape), dtype=torch.float64)
    v = torch.tensor(_draw(rng, vkind, v_shape), dtype=torch.float64)
    want = F.gaussian_nll_loss(x, y, v, reduction=reduction, **opts)
    if t_shape != shape:  # torch broadcasts the target; arrayloss never broadcasts it
        with pytest.raises(ValueError, match=rf"gaussian_nll_loss: .*"
                                             rf"{re.escape(str(shape))}.*{re.escape(str(t_shape))}"):
            al.gaussian_nll_loss(x, y, v, reduction=reduction, **opts)
        y = y.expand(shape)  # the same loss with the target written out
    _close(_call(al.gaussian_nll_loss, x, y, v, reduction=reduction, **opts), want)


def test_error_inputs_gaussian_nll_loss() -> None:
    """``error_inputs_gaussian_nll_loss``: an invalid reduction, a variance of shape
    (10, 2, 2) for input (10, 2, 3), and a target of that shape (torch: a broadcasting
    ``RuntimeError``; arrayloss: ``ValueError`` naming both shapes)."""
    torch, _ = _peer()
    x, v = torch.rand(10, 2, 3), torch.rand(10, 2, 3)
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: `reduction` must be one of"):
        al.gaussian_nll_loss(x, x, v, reduction="abc")
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: `var` of shape \(10, 2, 2\)"):
        al.gaussian_nll_loss(x, x, torch.rand(10, 2, 2))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: .*\(10, 2, 3\).*\(10, 2, 2\)"):
        al.gaussian_nll_loss(x, torch.rand(10, 2, 2), v)
