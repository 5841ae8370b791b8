"""``arrayloss.compile``: the opt-in compiled path for eager users.

Eager torch pays one kernel launch and one autograd node per array operation, and eager JAX
one dispatch per operation; a loss written once against the array API therefore loses to a
framework's fused kernels on small inputs (see the Performance page of the documentation).
Compiling the loss removes that overhead without changing its code::

    import arrayloss as al
    huber = al.compile(al.huber_loss, delta=0.5)   # options bound once, statically
    loss = huber(pred, target)                     # torch: torch.compile(fullgraph=True)
    loss = huber(pred, target, weight=w)           # jax:   jax.jit; others run eagerly

The compiled function is built on the first call for the library of its inputs and cached
(one per library; ``compile`` itself returns the same object for the same loss and
options). Array keyword arguments (``weight``, ``class_weight``...) may be given per call
and are traced; Python options are bound at ``compile`` time, because a compiler
specialises on them. NumPy, CuPy, Dask and array-api-strict have no compiler here: the
loss runs eagerly, unchanged.

Under the compilers the value checks (labels in range, probabilities in [0, 1], ordered
box corners) are skipped, as for any traced call (see the Conventions page); option and shape
errors are raised as in eager mode.
"""

from __future__ import annotations

import functools
import itertools
import sys
import types
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from . import _kernels

__all__ = ["Compiled", "compile"]

#: live ``Compiled`` objects by loss and options: an entry lives as long as its object
_CACHE: weakref.WeakValueDictionary[Any, Compiled] = weakref.WeakValueDictionary()
_SERIAL = itertools.count()


def _own_code(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """A copy of the function ``fn`` with a code object of its own.

    ``torch.compile`` keeps its compiled graphs (and counts recompilations against its
    limit, 8 by default) per *code object*: bound losses sharing one wrapper's code would
    share one cache, and the ninth distinct loss or option set would hit the limit. A
    renamed code object per compiled loss keeps each in its own cache entry.
    """
    names: dict[str, Any] = {"co_name": name}
    if sys.version_info >= (3, 11):
        names["co_qualname"] = name
    code = fn.__code__.replace(**names)
    out = types.FunctionType(code, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    out.__kwdefaults__ = fn.__kwdefaults__
    return out


class Compiled:
    """A loss with bound options, compiled per array library on first use."""

    def __init__(self, loss: Callable[..., Any], options: Mapping[str, Any],
                 torch_kwargs: Mapping[str, Any], jit_kwargs: Mapping[str, Any]) -> None:
        self.loss = loss
        self.options = dict(options)
        self.torch_kwargs = {"fullgraph": True, **torch_kwargs}
        self.jit_kwargs = dict(jit_kwargs)
        self._compiled: dict[str, Callable[..., Any]] = {}
        functools.update_wrapper(self, loss)
        self.__wrapped__ = loss

    def _bound(self) -> Callable[..., Any]:
        loss, options = self.loss, self.options

        def bound(*arrays: Any, **array_kwargs: Any) -> Any:
            return loss(*arrays, **options, **array_kwargs)

        name = getattr(loss, "__name__", "loss")
        return _own_code(bound, f"{name}__compiled_{next(_SERIAL)}")

    def compiled_for(self, library: str) -> Callable[..., Any]:
        """The cached compiled function for ``library`` (``"torch"``, ``"jax"``, else the
        eager loss with its options bound)."""
        fn = self._compiled.get(library)
        if fn is None:
            adapter = _kernels.adapter(library)
            kwargs = {"torch": self.torch_kwargs, "jax": self.jit_kwargs}.get(library)
            if adapter is not None and kwargs is not None:
                fn = adapter.compile_function(self._bound(), **kwargs)
            else:
                fn = self._bound()
            self._compiled[library] = fn
        return fn

    def __call__(self, *arrays: Any, **array_kwargs: Any) -> Any:
        name = getattr(self.loss, "__name__", "loss")
        if not arrays:
            raise TypeError(f"{name}: expected the input arrays as positional arguments")
        for key, value in array_kwargs.items():
            if value is not None and not _is_array(value):
                raise TypeError(
                    f"{name}: `{key}` given per call to a compiled loss must be an array; "
                    f"bind Python options at compile time: arrayloss.compile({name}, "
                    f"{key}={value!r})"
                )
        library = _kernels.library(arrays[0])
        try:
            return self.compiled_for(library)(*arrays, **array_kwargs)
        except Exception:
            if library == "torch":
                # Dynamo reports an option or shape error raised while tracing as an
                # `Unsupported` graph break: re-run eagerly to raise the loss's own error
                self._bound()(*arrays, **array_kwargs)
            raise

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        name = getattr(self.loss, "__name__", "loss")
        return f"arrayloss.compile({name}{', ' + opts if opts else ''})"


def _is_array(x: Any) -> bool:
    import array_api_compat

    return array_api_compat.is_array_api_obj(x) and not isinstance(x, (bool, int, float,
                                                                        complex))


def _typed(value: Any) -> Any:
    """A hashable key that tells ``True``, ``1`` and ``1.0`` apart (they are equal and
    hash alike in Python, but ``delta=True`` must not reuse ``delta=1``'s compiled loss)."""
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(_typed(v) for v in value))
    if isinstance(value, Mapping):
        return (type(value), tuple(sorted((k, _typed(v)) for k, v in value.items())))
    return (type(value), value)


def _key(loss: Callable[..., Any], options: Mapping[str, Any], torch_kwargs: Mapping[str, Any],
         jit_kwargs: Mapping[str, Any]) -> Any:
    """A hashable cache key, or None when an option is unhashable or an array."""
    if any(_is_array(v) for v in options.values()):
        return None  # arrays compare elementwise; never share them through the cache
    try:
        key = (loss, *(_typed(dict(m)) for m in (options, torch_kwargs, jit_kwargs)))
        hash(key)
    except TypeError:
        return None
    return key


def compile(
    loss: Callable[..., Any],
    /,
    *,
    torch_kwargs: Mapping[str, Any] | None = None,
    jit_kwargs: Mapping[str, Any] | None = None,
    **options: Any,
) -> Compiled:
    """Wrap ``loss`` in ``torch.compile`` / ``jax.jit`` for the library of its inputs.

    ``options`` are the loss's Python options (``delta=0.5``, ``reduction="sum"``,
    ``axis=1``...), bound now; arrays such as ``weight`` may be passed per call.
    ``torch_kwargs`` go to ``torch.compile`` (default ``fullgraph=True`` with the inductor
    backend; e.g. ``{"mode": "max-autotune"}`` or ``{"dynamic": True}``), ``jit_kwargs``
    to ``jax.jit``. The result is cached per loss and options; the compiled function per
    library. Gradients flow as through the eager loss (torch autograd, ``jax.grad``).
    Each compiled loss has its own ``torch.compile`` cache (its own code object), so many
    compiled losses in one program do not add up to torch's recompilation limit; the cache
    of ``compile`` holds an entry only while its ``Compiled`` object is alive.

    On NumPy, CuPy, Dask and array-api-strict inputs the loss runs eagerly.
    """
    if not callable(loss):
        raise TypeError(f"compile: `loss` must be a callable, got {type(loss).__name__}")
    tk, jk = dict(torch_kwargs or {}), dict(jit_kwargs or {})
    key = _key(loss, options, tk, jk)
    if key is not None and key in _CACHE:
        return _CACHE[key]
    out = Compiled(loss, options, tk, jk)
    if key is not None:
        _CACHE[key] = out
    return out
