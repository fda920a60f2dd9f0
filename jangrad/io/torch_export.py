"""``jangrad train ... --export-torch run.py``: a run recipe written out as a short PyTorch training script.

The script trains the same model on the same data with the same loss, optimizer and schedule: jangrad builds the
data, the split and the initial weights from the recipe (so they are the very same numbers) and hands the model to
PyTorch with ``to_torch()``; everything after that is plain PyTorch. It runs alone (``python run.py``) or on N
processes (``torchrun --nproc_per_node=N run.py``) with ``DistributedDataParallel``: each process takes its share
of every batch, and each scales its part of the loss so that DDP's average of the gradients is the batch's own
gradient, so the losses match the single-process run.
"""

from __future__ import annotations

from ..engine import Value
from ..optim import SGD, Adam, make_optimizer
from ..recipe import Recipe

__all__ = ["torch_script"]

# Each loss as a sum over a batch's samples (PyTorch's reduction="sum"), and what jangrad divides that sum by.
_LOSS_SUMS = {
    "sse": ("((out[:, 0] - target) ** 2).sum()", "1"),
    "mse": ("((out[:, 0] - target) ** 2).sum()", "len(batch)"),
    "hinge": ("torch.relu(1 - target * out[:, 0]).sum()", "len(batch)"),
    "bce": ("F.binary_cross_entropy_with_logits(out[:, 0], target, reduction='sum')", "len(batch)"),
    "ce": ("F.cross_entropy(out, target, reduction='sum')", "len(batch)"),
}

# jangrad's schedules (``schedules.make_schedule``), as formulas of the step.
_SCHEDULES = {
    "none": "LR",
    "linear": "LR + (LR / 10 - LR) * min(step, STEPS) / STEPS",
    "step": "LR * 0.1 ** (step // max(1, math.ceil(STEPS / 3)))",
    "cosine": "LR * 0.5 * (1 + math.cos(math.pi * min(step, STEPS) / STEPS))",
}


def _optimizer_line(recipe: Recipe) -> str:
    """The torch optimizer with jangrad's own defaults for the named one, read from the optimizer itself."""
    optimizer = make_optimizer(recipe.optimizer, [Value(0.0)], recipe.lr)
    if isinstance(optimizer, SGD):
        return (
            f"torch.optim.SGD(model.parameters(), lr=LR, momentum={optimizer.momentum!r}, "
            f"nesterov={optimizer.nesterov!r}, weight_decay={optimizer.weight_decay!r})"
        )
    if isinstance(optimizer, Adam):  # AdamW is an Adam with decoupled weight decay, as in torch.optim
        name = {"adam": "Adam", "adamw": "AdamW"}[recipe.optimizer]
        return (
            f"torch.optim.{name}(model.parameters(), lr=LR, betas={tuple(optimizer.betas)!r}, "
            f"eps={optimizer.eps!r}, weight_decay={optimizer.weight_decay!r})"
        )
    raise ValueError(f"no PyTorch optimizer is known for jangrad's {recipe.optimizer!r}")


def torch_script(recipe: Recipe, loss: str) -> str:
    """The PyTorch script that repeats ``recipe``, whose loss (chosen by the labels if the recipe left it open)
    is ``loss``."""
    loss_sum, normaliser = _LOSS_SUMS[loss]
    target_type = "torch.long" if loss == "ce" else "torch.float64"
    return f'''"""Train {recipe.command()!r} with PyTorch.

Written by jangrad. Run it alone:            python {{this file}}
or on N processes (CPU or GPU, one machine or more, with torchrun's options):
                                             torchrun --nproc_per_node=N {{this file}}
jangrad builds the data and the initial weights from the recipe, so they are the very numbers jangrad trains on;
the rest is plain PyTorch.
"""

import math
import os
import random
import sys

try:
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel

    from jangrad.recipe import Recipe, build
except ModuleNotFoundError as missing:  # one line saying what to install, not a traceback
    package = (missing.name or "").partition(".")[0]
    if package not in ("torch", "jangrad"):
        raise
    how = {{
        "torch": "PyTorch: install it with  python3 -m pip install torch  (for a GPU build, see "
        "https://pytorch.org/get-started/locally/)",
        "jangrad": "jangrad, which builds its data and first weights: install it with  python3 -m pip install -e .  "
        "in jangrad's folder",
    }}[package]
    print(f"{{os.path.basename(__file__)}}: this script needs {{how}}", file=sys.stderr)
    sys.exit(2)

RECIPE = {recipe!r}
LR, STEPS, SEED = RECIPE.lr, RECIPE.steps, RECIPE.seed


def batches(n, batch_size, seed):
    """jangrad's batches: every sample in order when one batch holds them all, else a fresh shuffle each epoch."""
    order, rng = list(range(n)), random.Random(seed)
    while True:
        if batch_size < n:
            rng.shuffle(order)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]


def main():
    distributed = "WORLD_SIZE" in os.environ  # set by torchrun
    if distributed:
        dist.init_process_group("gloo" if not torch.cuda.is_available() else "nccl")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    problem = build(RECIPE)
    model = problem.model.to_torch()  # float64, the same initial weights
    if distributed:
        model = DistributedDataParallel(model)
    X = torch.tensor(problem.X, dtype=torch.float64)
    y = torch.tensor(problem.y, dtype={target_type})
    optimizer = {_optimizer_line(recipe)}
    order = batches(len(X), min(RECIPE.batch_size or len(X), len(X)), SEED)
    for step in range(STEPS):
        for group in optimizer.param_groups:
            group["lr"] = {_SCHEDULES[recipe.schedule]}
        batch = next(order)
        mine = batch[rank::world]  # this process's share of the batch
        out, target = model(X[mine]), y[mine]
        total = {loss_sum}
        normaliser = {normaliser}
        # DDP averages the gradients of the processes: scaling each share by world / normaliser makes that
        # average the gradient of the whole batch's loss, as jangrad computes it.
        optimizer.zero_grad()
        (total * world / normaliser).backward()
        optimizer.step()
        batch_loss = total.detach().clone()
        if distributed:
            dist.all_reduce(batch_loss)
        if rank == 0:
            print(f"step {{step}} loss {{batch_loss.item() / normaliser!r}}")
    if distributed:
        dist.destroy_process_group()
        # PyTorch's gloo backend (2.13, CPU) now and then aborts as the interpreter exits, after a run that went
        # well ("terminate called without an active exception"), and torchrun then reports the run as failed. The
        # work is done and printed, so the process leaves without that teardown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
'''
