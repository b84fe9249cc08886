"""Metrics of eqgat models on a fixed, seeded evaluation batch: the training loss and
the CLRS output score (as differentiable-free JAX functions, so a grid can vmap them)."""

import eqgat
from eqgat import Model, run_batch
from eqgat._evaluate import output_scores


def eval_batch(algorithm: str, *, nb_nodes: int = 16, batch_size: int = 32, seed: int = 0):
    """The evaluation batch: ``batch_size`` test-distribution graphs (ids i/n, p = 0.5)
    from a dm-clrs sampler seeded with ``seed``, time axis cut to its longest trace."""
    from eqgat.data import Sampler

    return Sampler(algorithm, nb_nodes, batch_size, seed=seed, random_pos=False, p=(0.5,)).next().trimmed()


def eqgat_metrics(batch):
    """``model -> {'loss', 'score'}`` on ``batch``: dm-clrs' loss (outputs + hints) and the
    mean fraction of correct output entries (pointers: argmax equal)."""

    def metrics(model: Model):
        pred = run_batch(model, batch)
        losses = eqgat.prediction_losses(model, pred, batch)
        return {"loss": sum(losses.values()), "score": output_scores(model.spec, pred.outputs, batch.outputs)}

    return metrics
