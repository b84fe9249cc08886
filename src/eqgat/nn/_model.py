"""The encode-process-decode model: encoders, a GATv2 processor run over the trace with
``lax.scan``, and decoders, as in dm-clrs' ``Net`` with ``hint_mode='encoded_decoded'``
and soft hint re-prediction.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray, Shaped

from ._config import ModelConfig
from ._decoders import Decoder, PointerDecoder, make_decoder, postprocess
from ._edges import EdgeSum
from ._encoders import Encoder, Features, empty_features, to_soft
from ._gatv2 import GATv2
from ._shapes import check_probes, check_shape, fmt, require_probes, shape_of
from ..probes import Probe, Stage
from ..algorithms import get_spec

ProbeData = dict[str, Shaped[Array, "..."]]


class Prediction(eqx.Module):
    """What one graph's forward pass returns (``Model.__call__``); batched
    (``run_batch``, ``eqgat.predict``) every array gains a leading ``b`` axis.

    **Arguments:**

    - `outputs`: output logits by probe name (each frozen after step ``length - 2``, as
      in dm-clrs): node probes ``[n]`` (categoricals ``[n, k]``), pointers ``[i, j]``.
    - `hints`: hint logits by probe name, per step, ``[T-1, ...]`` (step t predicts hint
      t+1).
    - `alpha`: attention of every step, ``[T-1, d, i, j]`` (head, receiver, sender).
    - `hidden`: hidden state after every step, ``[T-1, n, s]``.
    - `logits`: the attention logits a + β of every step, ``[T-1, d, i, j]``, when asked
      for (``return_logits``; ``None`` otherwise).
    """

    outputs: dict[str, Array]
    hints: dict[str, Array]
    alpha: Float[Array, "t d n n"]
    hidden: Float[Array, "t n s"]
    logits: Float[Array, "t d n n"] | None = None


class Model(eqx.Module):
    """A CLRS encode-process-decode GATv2 for one algorithm, built from a ``ModelConfig``:
    an encoder per input (and fed-back hint) probe, a ``GATv2`` processor run over the
    trace with ``lax.scan``, a decoder per output (and predicted hint) probe, as dm-clrs'
    ``Net`` with ``hint_mode='encoded_decoded'`` and soft hint re-prediction.

    Trained, compiled and imported models are all instances of this class: an ordinary
    pytree (``model.encoders``, ``model.processor``, ``model.decoders``; ``model.config``
    is static).
    """

    encoders: dict[str, Encoder]
    processor: GATv2
    decoders: dict[str, Decoder]
    config: ModelConfig = eqx.field(static=True)

    def __init__(self, config: ModelConfig, *, key: PRNGKeyArray, xavier_on_scalars: bool = True):
        """**Arguments:**

        - `config`: the architecture, a ``ModelConfig``.
        - `key`: split into one key per encoder, one for the processor and one per
          decoder, in the order of ``get_spec(config.algorithm)``.
        - `xavier_on_scalars`: dm-clrs' initialisation of scalar hint encoders
          (standard deviation 1/sqrt(s)).
        """
        if not isinstance(config, ModelConfig):
            raise TypeError(f"Model takes a ModelConfig, e.g. Model(ModelConfig('bfs', 128), key=...); got {config!r}")
        spec = get_spec(config.algorithm)
        s = config.hidden_size
        enc_key, proc_key, dec_key = jax.random.split(key, 3)
        enc_probes = [p for p in spec if p.stage == Stage.INPUT or (p.stage == Stage.HINT and config.encode_hints)]
        dec_probes = [p for p in spec if p.stage == Stage.OUTPUT or (p.stage == Stage.HINT and config.decode_hints)]
        self.encoders = {
            p.name: Encoder(p, s, xavier_on_scalars=xavier_on_scalars, key=k)
            for p, k in zip(enc_probes, jax.random.split(enc_key, len(enc_probes)))
        }
        self.processor = GATv2(
            s, s, config.nb_heads, use_ln=config.use_ln, use_edge_info=config.use_edge_info,
            use_pre_att_bias=config.use_pre_att_bias, nb_nodes=config.nb_nodes,
            full_attention=config.full_attention, key=proc_key,
        )
        self.decoders = {
            p.name: make_decoder(p, 3 * s, s, s, simplify=config.simplify_decoders, key=k)
            for p, k in zip(dec_probes, jax.random.split(dec_key, len(dec_probes)))
        }
        self.config = config

    @property
    def algorithm(self) -> str:
        return self.config.algorithm

    @property
    def hidden_size(self) -> int:
        return self.config.hidden_size

    @property
    def encode_hints(self) -> bool:
        return self.config.encode_hints

    @property
    def decode_hints(self) -> bool:
        return self.config.decode_hints

    @property
    def spec(self) -> tuple[Probe, ...]:
        return get_spec(self.algorithm)

    def _probes(self, stage: str) -> list[Probe]:
        return [p for p in self.spec if p.stage == stage]

    def check_inputs(self, inputs: ProbeData, hints: ProbeData, length) -> tuple[int, int]:
        """Check one graph's arrays against this model's probes, naming the argument, the
        probe and both sizes when one does not fit (plain shape comparisons: under
        ``jax.jit`` and ``jax.vmap`` they run once, while tracing). ``__call__`` calls it.

        **Arguments:**

        As ``__call__``'s: every input probe in ``inputs`` (node ``[n]``, edge ``[n, n]``,
        graph ``[]``, categorical ones with their categories last, pointers as node
        indices ``[n]``), in ``hints`` every hint the model encodes, each ``[T, ...]``,
        and a scalar ``length``.

        **Returns:**

        (n, T): the graph's number of nodes (from ``inputs['pos']``) and the hints' time axis.

        **Raises:**

        ``ValueError`` for a missing probe or the first array whose shape does not fit.
        """
        alg = self.algorithm
        require_probes(inputs, self._probes(Stage.INPUT), arg="inputs", algorithm=alg)
        pos = shape_of(inputs["pos"])
        if len(pos) != 1:
            hint = (" (a batch: run it with eqgat.run_batch(model, batch) or jax.vmap)" if len(pos) == 2 else "")
            raise ValueError(f"inputs['pos'] must be [n] (one graph's node ids), got shape {fmt(pos)}{hint}")
        n = pos[0]
        check_probes(inputs, self._probes(Stage.INPUT), n, arg="inputs", algorithm=alg,
                     note=f"; n = {n} from inputs['pos']")
        if not hints:
            raise ValueError(f"hints is empty: the {alg} model reads the trace length T from them")
        first = next(iter(hints))
        T = shape_of(hints[first])[:1]
        if not T:
            raise ValueError(f"hints[{first!r}] must be [T, ...] (the hints of T steps), got a scalar")
        T = T[0]
        read = [p for p in self._probes(Stage.HINT) if p.name in self.encoders or p.name in hints]
        check_probes(hints, read, n, arg="hints", algorithm=alg, lead=[("T", T)],
                     note=f"; n = {n} from inputs['pos'], T = {T} from hints[{first!r}]")
        check_shape(length, (), (), arg="length", note=" (one graph's trace length, a scalar)")
        return n, T

    def _encode_inputs(self, inputs: ProbeData, n: int) -> tuple[Features, EdgeSum]:
        """The input probes' features, and E as every linear reader of it sees it: each
        reader projects the input encodings once per graph, here; inside the steps E is
        that base plus each fed-back hint's term (``eqgat.nn._edges``)."""
        base = empty_features(n, self.hidden_size)
        for p in self._probes(Stage.INPUT):
            base = self.encoders[p.name](to_soft(p, inputs[p.name], n), base)
        readers = [self.processor.W_edge] + ([self.processor.W_info] if self.processor.W_info is not None else [])
        readers += [d.W_e for d in self.decoders.values() if isinstance(d, PointerDecoder) and not d.simplify]
        return base, EdgeSum.over(base.E, readers)

    def __call__(
        self,
        inputs: ProbeData,
        hints: ProbeData,
        length: Shaped[Array, ""],
        *,
        teacher_forcing: bool = False,
        steps: Int[Array, ""] | int | None = None,
        return_logits: bool = False,
    ) -> Prediction:
        """Run one graph (no batch axis; ``run_batch`` vmaps it over a ``Batch``).

        T-1 message-passing steps run. Step 0 encodes ground-truth hint 0; step t > 0
        encodes the soft-decoded hints of step t-1, or ground-truth hint t when
        ``teacher_forcing``.

        **Arguments:**

        - `inputs`: input arrays by probe name: node ``[n]``, edge ``[i, j]``, pointers as
          node indices.
        - `hints`: hint arrays by probe name, ``[T, ...]`` (padded in time).
        - `length`: the true trace length (hints past it are padding), a scalar.
        - `teacher_forcing`: feed ground-truth hint t at step t instead of the
          predictions.
        - `steps`: skip steps t >= ``steps`` (their hint logits, attention and hidden
          state are zeros): pass the longest trace of a batch minus one, unbatched, and
          time padding costs nothing (``run_batch``).
        - `return_logits`: also return each step's attention logits (for margins).

        **Returns:**

        A ``Prediction``: outputs, hints ``[T-1, ...]``, attention ``[T-1, d, i, j]``,
        hidden states ``[T-1, n, s]`` (and logits).

        An array whose shape does not fit the probe raises a ``ValueError`` naming it and
        both sizes (``check_inputs``).
        """
        n, T = self.check_inputs(inputs, hints, length)
        s = self.hidden_size
        base, edges = self._encode_inputs(inputs, n)
        hint_probes = [p for p in self._probes(Stage.HINT) if p.name in self.encoders]
        truth = {p.name: jax.vmap(lambda x, p=p: to_soft(p, x, n))(hints[p.name]) for p in hint_probes}
        dec_hints = [p for p in self._probes(Stage.HINT) if p.name in self.decoders]
        outs = self._probes(Stage.OUTPUT)

        encode = functools.partial(self._features, base, edges, hint_probes)

        def step(carry, t):
            H, fed, last = carry
            if teacher_forcing:
                fed = {k: v[t] for k, v in truth.items()}
            feats = encode(fed)
            H_new, alpha = self.processor(feats.V, feats.E, feats.g, feats.A, H)
            logits = self.processor.logits(feats.V, feats.E, feats.g, feats.A, H) if return_logits else None
            h_t = jnp.concatenate([feats.V, H, H_new], axis=-1)
            hint_logits = {p.name: self.decoders[p.name](h_t, feats.E, feats.g) for p in dec_hints}
            # outputs are those of the last live step (dm-clrs decodes them every step and
            # keeps the last): carry what that step read (its hints in, H before and after;
            # n x n x f edge features would be stored per step) and decode after the scan
            live = (t == 0) | (length > t + 1)
            last = jax.tree.map(lambda new, old: jnp.where(live, new, old), (fed, H, H_new), last)
            nxt = {p.name: postprocess(p, hint_logits[p.name], hard=False) for p in hint_probes}
            return (H_new, nxt, last), (hint_logits, alpha, H_new, logits)

        fed0 = {k: v[0] for k, v in truth.items()}
        init = (jnp.zeros((n, s)), fed0, (fed0, jnp.zeros((n, s)), jnp.zeros((n, s))))
        body = _skipping_padding(step, init, steps)
        # the backward pass recomputes each step from its carry (jax.checkpoint, around the
        # cond so that nothing the cond closes over is stacked per step) instead of storing
        # every n x n x s intermediate: measured at table 4's settings on 2 CPU cores, the
        # stored intermediates cost more in memory traffic than the recompute
        body = jax.checkpoint(body)
        (_, _, (fed_last, H_last, H_new_last)), (hint_logits, alpha, hidden, logits) = jax.lax.scan(
            body, init, jnp.arange(max(1, T - 1))
        )
        feats = encode(fed_last)
        h_last = jnp.concatenate([feats.V, H_last, H_new_last], axis=-1)
        outputs = {p.name: self.decoders[p.name](h_last, feats.E, feats.g) for p in outs}
        return Prediction(outputs, hint_logits, alpha, hidden, logits)

    def _features(self, base: Features, edges: EdgeSum, hint_probes: list, fed: dict) -> Features:
        """The step's features: the inputs' (``base``, ``edges``) with the fed hints encoded."""
        feats = Features(base.V, edges, base.g, base.A)
        for p in hint_probes:
            feats = self.encoders[p.name](fed[p.name], feats)
        return feats


def _skipping_padding(step, init, steps):
    """``step`` as a scan body that skips steps t >= ``steps`` (zeros for their outputs);
    ``step`` itself when ``steps`` is None. An unbatched predicate stays a real branch
    under vmap: padding is not computed."""
    if steps is None:
        return step
    ys = jax.eval_shape(step, init, 0)[1]

    def skip(carry, t):
        return carry, jax.tree.map(lambda y: jnp.zeros(y.shape, y.dtype), ys)

    return lambda carry, t: jax.lax.cond(t < steps, step, skip, carry, t)


def batch_steps(length: Float[Array, "*b"]) -> Int[Array, ""]:
    """Message-passing steps a batch (or a stack of batches) needs.

    **Arguments:**

    - `length`: the trace lengths ``[b]`` (or ``[..., b]``).

    **Returns:**

    Its longest trace minus one, at least 1: an int32 scalar (traceable), the ``steps``
    of ``run_batch``.
    """
    return jnp.maximum(jnp.max(length).astype(jnp.int32) - 1, 1)


def check_batch(model: Model, batch, *, outputs: bool = False) -> tuple[int, int, int]:
    """Check ``batch``'s arrays against ``model``'s probes, naming the array, the probe and
    both sizes when one does not fit (plain shape comparisons: under ``jax.jit`` they run
    once, while tracing). ``run_batch`` (so ``predict``, ``score`` and ``loss``) calls it.

    **Arguments:**

    - `model`: an eqgat ``Model``.
    - `batch`: an ``eqgat.Batch``: every input probe ``[b, ...]`` (the per-graph shapes
      of ``Model.check_inputs``), every hint the model encodes ``[b, T, ...]``,
      ``length`` ``[b]``.
    - `outputs`: also require every output probe, ``[b, ...]`` (for losses and scores).

    **Returns:**

    (b, n, T): graphs, nodes per graph (from ``batch.inputs['pos']``) and hint steps.

    **Raises:**

    ``ValueError`` for a missing probe or the first array whose shape does not fit.
    """
    alg = model.algorithm
    other = getattr(batch, "algorithm", alg)
    whose = "" if other == alg else f"; the batch is of {other!r} graphs"
    require_probes(batch.inputs, model._probes(Stage.INPUT), arg="batch.inputs", algorithm=alg, note=whose)
    pos = shape_of(batch.inputs["pos"])
    if len(pos) != 2:
        raise ValueError(f"batch.inputs['pos'] must be [b, n] (b graphs' node ids), got shape {fmt(pos)}"
                         + (" (one graph: call the model itself, or add a batch axis)" if len(pos) == 1 else ""))
    b, n = pos
    where = f"; b = {b}, n = {n} from batch.inputs['pos']"
    check_probes(batch.inputs, model._probes(Stage.INPUT), n, arg="batch.inputs", algorithm=alg,
                 lead=[("b", b)], note=where)
    check_shape(batch.length, ("b",), (b,), arg="batch.length", note=f" (one trace length per graph; b = {b} "
                "from batch.inputs['pos'])")
    hints = batch.hints
    require_probes(hints, [p for p in model._probes(Stage.HINT) if p.name in model.encoders], arg="batch.hints",
                   algorithm=alg, note=whose)
    if not hints:
        raise ValueError(f"batch.hints is empty: the {alg} model reads the trace length T from them")
    first = next(iter(hints))
    T = shape_of(hints[first])[1:2]
    if not T:
        raise ValueError(f"batch.hints[{first!r}] must be [b, T, ...], got shape {fmt(shape_of(hints[first]))}")
    T = T[0]
    read = [p for p in model._probes(Stage.HINT) if p.name in model.encoders or p.name in hints]
    check_probes(hints, read, n, arg="batch.hints", algorithm=alg, lead=[("b", b), ("T", T)],
                 note=f"{where}, T = {T} from batch.hints[{first!r}]")
    if outputs:
        outs = getattr(batch, "outputs", None)
        require_probes(outs, model._probes(Stage.OUTPUT), arg="batch.outputs", algorithm=alg, note=whose)
        check_probes(outs, model._probes(Stage.OUTPUT), n, arg="batch.outputs", algorithm=alg,
                     lead=[("b", b)], note=where)
    return b, n, T


def run_batch(model: Model, batch, *, teacher_forcing: bool = False,
              steps: Int[Array, ""] | None = None, return_logits: bool = False) -> Prediction:
    """``model`` on every graph of ``batch`` (vmapped over its batch axis), computing only
    the steps the batch's longest trace needs. Traceable (not jitted itself: ``predict``
    is the jitted form).

    **Arguments:**

    - `model`: an eqgat ``Model``.
    - `batch`: an ``eqgat.Batch`` of the model's algorithm (shapes checked by ``check_batch``).
    - `teacher_forcing`: feed the true hints back instead of the predicted ones.
    - `steps`: message-passing steps to compute (default ``batch_steps(batch.length)``).
    - `return_logits`: also return every step's attention logits.

    **Returns:**

    A batched ``Prediction``: outputs ``[b, ...]``, hints ``[b, T-1, ...]``, attention
    ``[b, T-1, d, i, j]``, hidden states ``[b, T-1, n, s]``.
    """
    check_batch(model, batch)
    steps = batch_steps(batch.length) if steps is None else steps
    return jax.vmap(lambda i, h, l: model(i, h, l, teacher_forcing=teacher_forcing, steps=steps,  # noqa: E741
                                          return_logits=return_logits))(
        batch.inputs, batch.hints, batch.length
    )
