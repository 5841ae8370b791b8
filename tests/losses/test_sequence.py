"""Sequence losses (``arrayloss.losses.sequence``) beyond the catalogue's matrix: ``ctc_loss``
gradients at the catalogue's example, infeasible sequences (``+inf`` with a zero gradient),
padded frames that hold anything, float32 rounding, the peers' values and gradients on random
batches with uneven lengths (torch ``F.ctc_loss``, optax ``ctc_loss``, ``keras.losses.ctc``)
and the peers' conventions we must not copy; the ``_ops.scan`` primitive; the torch module.

The backend matrix (``test_matrix.py``) already runs every catalogue case on every backend.
"""

from __future__ import annotations

from contextlib import nullcontext as _nullcontext
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss import _kernels, _namespace, _ops
from conftest import assert_close as _close
from conftest import jax_or_skip, keras_or_skip, optax_or_skip
from conftest import torch_or_skip as _torch

Z = np.array([[[0.5, 1.0, -0.5], [0.2, -0.3, 1.5], [1.0, 0.1, 0.3], [0.0, 0.8, -0.2]],
              [[0.1, 0.4, 0.9], [1.2, -0.7, 0.0], [0.3, 0.3, 0.3], [2.0, -1.0, 0.5]]])
Y = np.array([[1, 2], [1, 1]])
IL = np.array([4, 3])
TL = np.array([2, 2])


def _uneven(seed: int, b: int = 5, t: int = 9, c: int = 6, s: int = 4
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A random batch with uneven lengths, every sequence feasible (``T_b >= 2 L_b``), junk
    in the padding of the labels."""
    rng = np.random.default_rng(seed)
    tl = rng.integers(0, s + 1, size=b)
    il = np.maximum(2 * tl, rng.integers(1, t + 1, size=b))
    y = rng.integers(1, c, size=(b, s))
    y = np.where(np.arange(s)[None, :] < tl[:, None], y, 7 * c)
    return rng.normal(size=(b, t, c)) * 1.5, y, il, tl


def _torch_value_grad(fn: Any, z: np.ndarray, *rest: Any, **kw: Any) -> tuple[Any, Any]:
    torch = _torch()
    x = torch.tensor(z, requires_grad=True)
    out = fn(x, *rest, **kw)
    (g,) = torch.autograd.grad(out.sum(), x)
    return out.detach().numpy(), g.numpy()


def _ours_torch(z: np.ndarray, y: np.ndarray, il: np.ndarray, tl: np.ndarray,
                **kw: Any) -> tuple[Any, Any]:
    torch = _torch()
    return _torch_value_grad(al.ctc_loss, z, torch.tensor(y), input_lengths=torch.tensor(il),
                             target_lengths=torch.tensor(tl), reduction="none", **kw)


class TestCtcLoss:
    def test_golden_gradients(self) -> None:
        """The catalogue's gradient of "sum" at frame 0 of sequence 0, and zero at the padded
        frame 3 of sequence 1: torch (native kernel and generic loop) and ``jax.grad``."""
        want0 = [0.2437016, -0.3656532, 0.1219517]
        for generic in (False, True):
            with _kernels.generic() if generic else _nullcontext():
                _, g = _ours_torch(Z, Y, IL, TL)
            _close(g[0, 0], want0, rtol=1e-6, atol=1e-7)
            assert np.all(g[1, 3] == 0.0)
        jax = jax_or_skip()
        import jax.numpy as jnp

        g = jax.jit(jax.grad(lambda z: al.ctc_loss(
            z, jnp.asarray(Y), input_lengths=jnp.asarray(IL), target_lengths=jnp.asarray(TL),
            reduction="sum")))(jnp.asarray(Z))
        _close(np.asarray(g)[0, 0], want0, rtol=1e-6, atol=1e-7)
        assert np.all(np.asarray(g)[1, 3] == 0.0)

    @pytest.mark.parametrize("path", ["torch", "torch-generic", "jax"])
    def test_infeasible_is_inf_with_zero_gradient(self, path: str) -> None:
        """Sequence 1 has 2 frames for the labels (1, 1), which need 3 (a blank between the
        repeated labels): ``+inf`` and a zero gradient (torch's own gives NaN gradients,
        optax about 1e5 with a non-zero gradient); ``zero_infinity`` gives 0, still with a
        zero gradient; the feasible sequence keeps its gradient."""
        il = np.array([4, 2])
        for zero_infinity, want in ((False, np.inf), (True, 0.0)):
            if path == "jax":
                jax = jax_or_skip()
                import jax.numpy as jnp

                def f(z: Any, zi: bool = zero_infinity) -> Any:
                    return al.ctc_loss(z, jnp.asarray(Y), input_lengths=jnp.asarray(il),
                                       target_lengths=jnp.asarray(TL), zero_infinity=zi,
                                       reduction="none")

                out = np.asarray(jax.jit(f)(jnp.asarray(Z)))
                g = np.asarray(jax.jit(jax.grad(lambda z: f(z).sum()))(jnp.asarray(Z)))
            else:
                with _kernels.generic() if path == "torch-generic" else _nullcontext():
                    out, g = _ours_torch(Z, Y, il, TL, zero_infinity=zero_infinity)
            assert out[1] == want and out[0] == pytest.approx(1.918474, rel=1e-6)
            assert np.all(g[1] == 0.0) and np.all(np.isfinite(g))
            assert np.any(g[0] != 0.0)

    def test_torch_peer_gives_nan_gradients_where_we_give_zero(self) -> None:
        """The peer bug we must not have: torch's infeasible sequence without
        ``zero_infinity`` has a NaN (or garbage) gradient."""
        torch = _torch()
        x = torch.tensor(Z, requires_grad=True)
        lp = torch.log_softmax(x, -1).transpose(0, 1)
        out = torch.nn.functional.ctc_loss(lp, torch.tensor(Y), torch.tensor([4, 2]),
                                           torch.tensor(TL), reduction="sum")
        (g,) = torch.autograd.grad(out, x)
        assert out == np.inf and not torch.all(torch.isfinite(g[1]))
        _, ours = _ours_torch(Z, Y, np.array([4, 2]), TL)
        assert np.all(ours[1] == 0.0)

    def test_optax_peer_gives_a_large_finite_loss_where_we_give_inf(self) -> None:
        optax = optax_or_skip()
        logit_pad = (np.arange(4)[None, :] >= np.array([4, 2])[:, None]).astype(float)
        theirs = np.asarray(optax.ctc_loss(Z, logit_pad, Y, np.zeros((2, 2))))
        assert 9e4 < theirs[1] < 2e5  # about -log_epsilon = 1e5
        ours = al.ctc_loss(Z, Y, input_lengths=np.array([4, 2]), target_lengths=TL,
                           reduction="none")
        assert ours[1] == np.inf

    @pytest.mark.parametrize("poison", [np.inf, -np.inf, np.nan])
    def test_padded_frames_hold_anything(self, poison: float) -> None:
        """Frames past ``input_lengths`` do not enter the value and get exactly zero
        gradient, whatever they hold."""
        z = Z.copy()
        z[1, 3] = poison
        want = al.ctc_loss(Z, Y, input_lengths=IL, target_lengths=TL, reduction="none")
        _close(al.ctc_loss(z, Y, input_lengths=IL, target_lengths=TL, reduction="none"), want)
        for generic in (False, True):
            with _kernels.generic() if generic else _nullcontext():
                out, g = _ours_torch(z, Y, IL, TL)
            _close(out, want)
            assert np.all(np.isfinite(g)) and np.all(g[1, 3] == 0.0)

    def test_nan_in_a_counted_frame_gives_nan(self) -> None:
        z = Z.copy()
        z[0, 2, 1] = np.nan
        out = al.ctc_loss(z, Y, input_lengths=IL, target_lengths=TL, reduction="none")
        assert np.isnan(out[0]) and out[1] == pytest.approx(2.691396, rel=1e-6)

    def test_masked_class_keeps_gradients_finite(self) -> None:
        """A ``-inf`` logit on a class no alignment uses (a masked class): finite value and
        gradients, equal to dropping the class from the softmax."""
        z = np.concatenate([Z, np.full((2, 4, 1), -np.inf)], axis=-1)
        want = al.ctc_loss(Z, Y, input_lengths=IL, target_lengths=TL, reduction="none")
        out, g = _ours_torch(z, Y, IL, TL)
        _close(out, want)
        assert np.all(np.isfinite(g)) and np.all(g[..., 3] == 0.0)

    def test_float32_near_certain_alignment_is_not_negative(self) -> None:
        """Rounding can make a near-certain alignment's loss slightly negative (optax#1771,
        keras PR #23685): the loss is clamped at 0."""
        z = np.full((3, 12, 4), -40.0, np.float32)
        labels = np.array([[1, 2, 3]] * 3)
        path = [0, 1, 1, 0, 2, 2, 0, 3, 3, 0, 0, 0]  # one alignment takes all the mass
        z[:, np.arange(12), path] = 40.0
        for backend in ("numpy", "torch", "jax"):
            if backend == "numpy":
                out = al.ctc_loss(z, labels, reduction="none")
            elif backend == "torch":
                torch = _torch()
                out = al.ctc_loss(torch.tensor(z), torch.tensor(labels), reduction="none")
            else:
                jax_or_skip()
                import jax.numpy as jnp

                out = al.ctc_loss(jnp.asarray(z), jnp.asarray(labels), reduction="none")
            out = np.asarray(out)
            assert out.dtype == np.float32 and np.all(out >= 0.0) and np.all(out < 1e-6)

    @pytest.mark.parametrize("seed", [0, 1])
    def test_torch_peer_values_and_gradients(self, seed: int) -> None:
        """``F.ctc_loss`` on ``log_softmax(pred)`` frames-first: values ("none", and torch's
        'mean' = ``length_normalize``) and gradients to float64 rounding, through our torch
        kernel and through the generic loop."""
        torch = _torch()
        z, y, il, tl = _uneven(seed)
        args = (torch.tensor(y), torch.tensor(il), torch.tensor(tl))

        def theirs(x: Any, reduction: str) -> Any:
            lp = torch.log_softmax(x, -1).transpose(0, 1)
            return torch.nn.functional.ctc_loss(lp, torch.tensor(np.where(y > 5, 1, y)),
                                                *args[1:], reduction=reduction)

        for reduction, opts in (("none", {}), ("mean", {"length_normalize": True})):
            want, gw = _torch_value_grad(theirs, z, reduction)
            for generic in (False, True):
                with _kernels.generic() if generic else _nullcontext():
                    got, g = _torch_value_grad(al.ctc_loss, z, args[0], input_lengths=args[1],
                                               target_lengths=args[2], reduction=reduction,
                                               **opts)
                _close(got, want, rtol=1e-12, atol=1e-13)
                _close(g, gw, rtol=1e-10, atol=1e-13)

    def test_optax_peer_values_and_gradients(self) -> None:
        """``optax.ctc_loss`` with paddings from the lengths, under ``jax.jit``: values and
        gradients to float64 rounding, ours through ``jax.lax.scan``."""
        optax = optax_or_skip()
        import jax
        import jax.numpy as jnp

        z, y, il, tl = _uneven(1)
        t, s = z.shape[1], y.shape[1]
        lpad = jnp.asarray((np.arange(t)[None, :] >= il[:, None]).astype(float))
        ypad = jnp.asarray((np.arange(s)[None, :] >= tl[:, None]).astype(float))
        w = jnp.asarray(np.random.default_rng(1).uniform(0.5, 1.5, size=z.shape[0]))

        def theirs(x: Any) -> Any:
            v = optax.ctc_loss(x, lpad, jnp.asarray(np.where(y > 5, 0, y)), ypad)
            return jnp.sum(w * v), v

        def ours(x: Any) -> Any:
            v = al.ctc_loss(x, jnp.asarray(y), input_lengths=jnp.asarray(il),
                            target_lengths=jnp.asarray(tl), reduction="none")
            return jnp.sum(w * v), v

        (_, vt), gt = jax.jit(jax.value_and_grad(theirs, has_aux=True))(jnp.asarray(z))
        (_, vo), go = jax.jit(jax.value_and_grad(ours, has_aux=True))(jnp.asarray(z))
        _close(np.asarray(vo), np.asarray(vt), rtol=1e-11, atol=1e-12)
        _close(np.asarray(go), np.asarray(gt), rtol=1e-9, atol=1e-12)

    def test_keras_convention(self) -> None:
        """``keras.losses.ctc`` takes label 0 as the blank and the padding and every frame:
        ``target_lengths = sum(target != 0)`` (Keras computes in float32)."""
        keras = keras_or_skip()
        y = np.array([[1, 2], [1, 0]])
        theirs = np.asarray(keras.ops.convert_to_numpy(keras.losses.ctc(y, Z)), np.float64)
        ours = al.ctc_loss(Z, y, target_lengths=np.sum(y != 0, axis=1), reduction="none")
        _close(ours, theirs, rtol=1e-6, atol=1e-6)

    def test_torch_log_probs_frames_first(self) -> None:
        """torch's ``log_probs`` ``(T, B, C)`` moved to batch-first: the log-softmax inside is
        idempotent, so the value is torch's."""
        torch = _torch()
        lp = torch.log_softmax(torch.tensor(Z), -1).transpose(0, 1)
        want = torch.nn.functional.ctc_loss(lp, torch.tensor(Y), torch.tensor(IL),
                                            torch.tensor(TL), reduction="none")
        got = al.ctc_loss(torch.movedim(lp, 1, 0), torch.tensor(Y),
                          input_lengths=torch.tensor(IL), target_lengths=torch.tensor(TL),
                          reduction="none")
        _close(got.numpy(), want.numpy(), rtol=1e-12)

    def test_empty_inputs(self) -> None:
        """No frame: 0 for an empty target, +inf otherwise; no label at all: the blank's
        negative log-likelihood over the frames."""
        out = al.ctc_loss(np.zeros((2, 0, 3)), np.zeros((2, 1), np.int64) + 1,
                          target_lengths=np.array([0, 1]), reduction="none")
        assert list(out) == [0.0, np.inf]
        lp0 = Z - np.log(np.exp(Z).sum(-1, keepdims=True))
        _close(al.ctc_loss(Z, np.zeros((2, 0), np.int64), reduction="none"),
               -lp0[..., 0].sum(-1))

    def test_bad_lengths_and_labels(self) -> None:
        with pytest.raises(ValueError, match=r"ctc_loss: `input_lengths` must hold lengths in "
                                             r"\[0, 4\]; found 5 at index \(1,\)"):
            al.ctc_loss(Z, Y, input_lengths=np.array([4, 5]))
        with pytest.raises(ValueError, match=r"ctc_loss: `target_lengths` .* found -1"):
            al.ctc_loss(Z, Y, target_lengths=np.array([-1, 2]))
        with pytest.raises(ValueError, match=r"ctc_loss: `input_lengths` must have shape "
                                             r"\(2,\)"):
            al.ctc_loss(Z, Y, input_lengths=np.array([[4, 4]]))
        with pytest.raises(TypeError, match=r"ctc_loss: `target_lengths` must hold integer"):
            al.ctc_loss(Z, Y, target_lengths=np.array([2.0, 2.0]))
        with pytest.raises(ValueError, match=r"ctc_loss: `target` .*found 0 at index \(0, 1\)"
                                             r".*blank class"):
            al.ctc_loss(Z, np.array([[1, 0], [1, 1]]))
        # padding past target_lengths may hold anything, the blank and -1 included
        al.ctc_loss(Z, np.array([[1, 0], [1, -1]]), target_lengths=np.array([1, 1]))
        with pytest.raises(ValueError, match=r"moveaxis\(log_probs, 1, 0\)"):
            al.ctc_loss(np.zeros((4, 2, 3)), Y)
        with pytest.raises(ValueError, match=r"ctc_loss: `blank` must be a class in \[0, 3\)"):
            al.ctc_loss(Z, Y, blank=3)

    def test_unchecked_bad_labels_give_nan(self) -> None:
        """Without value checks a label out of range, or the blank, inside
        ``target_lengths`` makes its sequence NaN; padding never does."""
        with al.options(validate=False):
            out = al.ctc_loss(Z, np.array([[1, 3], [0, 1]]), reduction="none")
            assert np.all(np.isnan(out))
            out = al.ctc_loss(Z, np.array([[1, 3], [1, 0]]), target_lengths=np.array([1, 1]),
                              reduction="none")
            assert np.all(np.isfinite(out))

    def test_module_takes_torch_forms(self) -> None:
        """``arrayloss.torch.CTCLoss`` takes torch's concatenated targets, an unbatched
        input and lengths as tuples, and equals ``torch.nn.CTCLoss`` there."""
        torch = _torch()
        import arrayloss.torch as alt

        z, y, il, tl = _uneven(3, b=3)
        lp = torch.log_softmax(torch.tensor(z), -1).transpose(0, 1)
        flat = torch.tensor(np.concatenate([y[i, : tl[i]] for i in range(3)]))
        for reduction in ("mean", "sum", "none"):
            want = torch.nn.CTCLoss(reduction=reduction)(lp, flat, tuple(il), tuple(tl))
            got = alt.CTCLoss(reduction=reduction)(lp, flat, tuple(il), tuple(tl))
            _close(got.numpy(), want.numpy(), rtol=1e-12)
            one = alt.CTCLoss(reduction=reduction)(lp[: il[0], 0], torch.tensor(y[0, : tl[0]]),
                                                   il[0], tl[0])
            ref = torch.nn.CTCLoss(reduction=reduction)(lp[: il[0], 0],
                                                        torch.tensor(y[0, : tl[0]]),
                                                        (int(il[0]),), (int(tl[0]),))
            assert one.shape == ref.shape
            _close(one.numpy(), ref.numpy(), rtol=1e-12)


class TestScan:
    """``_ops.scan``: the generic loop and JAX's ``jax.lax.scan`` kernel agree on the final
    carry and the stacked outputs (also with a tuple of inputs and an empty sequence)."""

    @staticmethod
    def _run(x: Any, w: Any, c0: Any) -> Any:
        xp = _namespace.namespace("t", x=x)

        def step(c: Any, xs: tuple[Any, Any]) -> tuple[Any, Any]:
            a, b = xs
            c = c * 0.5 + a * b
            return c, c * c

        return _ops.scan(xp, step, c0, (x, w))

    def test_jax_scan_equals_the_loop(self) -> None:
        jax = jax_or_skip()
        import jax.numpy as jnp

        rng = np.random.default_rng(0)
        x, w = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
        want_c, want_ys = self._run(x, w, np.ones(3))
        _close(want_ys[-1], want_c * want_c)
        for generic in (False, True):
            with _kernels.generic() if generic else _nullcontext():
                carry, ys = jax.jit(self._run)(jnp.asarray(x), jnp.asarray(w), jnp.ones(3))
            _close(np.asarray(carry), want_c)
            _close(np.asarray(ys), want_ys)
        empty = np.zeros((0, 3))
        carry, ys = jax.jit(self._run)(jnp.asarray(empty), jnp.asarray(empty), jnp.ones(3))
        _close(np.asarray(carry), np.ones(3))
        assert ys.shape == (0, 3)

    def test_no_outputs_gives_none(self) -> None:
        xp = _namespace.namespace("t", x=np.ones(2))
        carry, ys = _ops.scan(xp, lambda c, x: (c + x, None), np.zeros(()), np.arange(4.0))
        assert ys is None and carry == 6.0


