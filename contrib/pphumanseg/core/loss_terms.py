"""Named loss terms for logging each one separately (e.g. CrossEntropyLoss and SCLoss).

The config's ``loss`` section pairs each model output with a loss and a coefficient, as in
PaddleSeg; a ``MixedLoss`` contributes one term per inner loss.
"""
from paddleseg.models.losses import MixedLoss


def loss_terms(logits_list, labels, losses, edges=None):
    """Computes every weighted loss term.

    Args:
        logits_list (list[Tensor]): model outputs, one per entry of ``losses['types']``.
        labels (Tensor): int64 labels [N, H, W].
        losses (dict): ``{'types': [loss layers], 'coef': [floats]}`` from the config.
        edges (Tensor, optional): edge labels for losses built with ``edge_label=True``.

    Returns:
        list[tuple[str, Tensor]]: (term name, coefficient * loss); names carry ``[i]`` for the
        output index when the model has several outputs.
    """
    if len(logits_list) != len(losses["types"]):
        raise ValueError(f"the model returns {len(logits_list)} outputs but the config's loss has "
                         f"{len(losses['types'])} types")
    terms = []
    for output, (logits, loss, coef) in enumerate(zip(logits_list, losses["types"], losses["coef"])):
        suffix = f"[{output}]" if len(logits_list) > 1 else ""
        target = edges if getattr(loss, "edge_label", False) else labels
        if isinstance(loss, MixedLoss):
            values = loss(logits, target)
            names = [type(inner).__name__ for inner in loss.losses]
        else:
            values = [loss(logits, target)]
            names = [type(loss).__name__]
        terms.extend((name + suffix, coef * value) for name, value in zip(names, values))
    return terms
