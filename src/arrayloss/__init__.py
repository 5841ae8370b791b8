"""arrayloss: loss functions written once against the Python array API.

Call a loss with the arrays you already have (NumPy, CuPy, PyTorch, JAX, Dask,
array-api-strict) and get back an array of the same library, on the same device,
differentiable and jit-able::

    import arrayloss as al
    al.huber_loss(pred, target, delta=0.5)        # numpy in -> numpy 0-d array out

Conventions shared by every loss (the Conventions page of the documentation):
``name(pred, target, /, *, options..., weight=None, where=None, replicas=None,
reduction="mean")``; reductions
``"mean"``, ``"sum"``, ``"none"``, ``"weighted_mean"``; ``where`` (boolean) drops entries
from the sum and the count; ``replicas`` (a torch process group or a JAX axis name) makes
the reduction the whole group's batch's (data parallelism), and ``parts(loss, ...)`` keeps
the statistics a mean is finished from (exact gradient accumulation); a mean over nothing
is 0 with zero gradients; float16/bfloat16 computed in float32 with a float32 result; NaN
in, NaN out; value checks on concrete host arrays only, never under a trace
(``with options(validate=False):`` turns them off in this thread).
"""

from ._compile import compile as compile
from ._options import get_options, options, set_options
from ._replicas import Parts, parts
from ._version import __version__
from .losses import *  # noqa: F403
from .losses import __all__ as _losses_all

# ``compile`` is public (``arrayloss.compile``) but left out of ``__all__``: a star import
# would shadow the builtin
__all__ = ["Parts", "__version__", "get_options", "options", "parts", "set_options",
           *_losses_all]
