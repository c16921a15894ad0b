"""A run as code: the settings of one network turned into a standalone NumPy script
(``OUT.py``) or a notebook (``OUT.ipynb``) that trains it as ``bnviz train`` does and prints
``step=<int> val_loss=<float> val_acc=<float>`` at every evaluation.

Only what the settings need is written (:mod:`bnviz.export.pieces`): one activation, one
optimizer, batch norm or not, the data set's own generator. A data set that is not generated
(the digits, a user's file) is written as an .npz beside the code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from bnviz.data import Dataset
from bnviz.data.dataset import DataError
from bnviz.export import notebook
from bnviz.export import pieces as P
from bnviz.export.target import ExportError, check_target
from bnviz.nn.optim import ADAM_EPS
from bnviz.train.config import PLANAR, ConfigError, TrainConfig
from bnviz.train.twins import twin_configs

SUFFIXES = (".py", ".ipynb")
try:
    __version__ = version("bnviz")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "(source)"
DEFAULT_EPOCHS = 30  # as bnviz train
EVALS_PER_RUN = 50


@dataclass(frozen=True)
class CodePlan:
    """What the exported code trains: one network's settings, its data set and the run length."""

    config: TrainConfig
    data: Dataset
    steps: int
    eval_every: int
    data_file: str  # the .npz beside the code ("" for a generated data set)
    notebook: bool = False
    note: str = ""  # e.g. which twin of a compare-mode run was exported
    name: str = "run.py"  # the code's own file name, for its usage line

    @property
    def batchnorm(self) -> bool:
        return self.config.batchnorm and bool(self.config.hidden)

    @property
    def source(self) -> str:
        """The data's kind: "planar" (its generator inline), "digits" (the raw images in an .npz,
        split by the code) or "file" (the split itself in an .npz)."""
        name = self.config.dataset.strip().lower()
        return "planar" if name in PLANAR else ("digits" if name == "digits" else "file")


def plan_for(
    config: TrainConfig,
    data: Dataset,
    out: str | os.PathLike[str],
    *,
    steps: int | None = None,
    epochs: int | None = None,
    eval_every: int | None = None,
) -> CodePlan:
    """The plan of an export to ``out``; run length and evaluations as ``bnviz train`` sets them."""
    path = Path(out)
    suffix = check_target(path, SUFFIXES)
    note = ""
    if config.compare:
        name, config = twin_configs(config)[0]
        note = f"compare mode: the code trains the first network ({name})"
    config = replace(config, compare=False)
    n = len(data.X_train)
    per_epoch = max(1, n // min(config.batch_size, n))
    total = steps or (epochs or DEFAULT_EPOCHS) * per_epoch
    every = eval_every or max(1, total // EVALS_PER_RUN)
    plan = CodePlan(config, data, total, every, "", suffix == ".ipynb", note, path.name)
    if plan.source != "planar":
        plan = replace(plan, data_file=path.with_suffix(".npz").name)
    return plan


def write_code(plan: CodePlan, out: str | os.PathLike[str]) -> list[str]:
    """Write the code (and its .npz) to ``out``; returns the files written."""
    path = Path(out)
    check_target(path, SUFFIXES)
    written = []
    if plan.data_file:
        target = path.with_name(plan.data_file)
        _write_data(plan, target)
        written.append(str(target))
    cells = build_cells(plan)
    if plan.notebook:
        path.write_text(notebook.to_json(cells))
    else:
        path.write_text(to_script(cells, plan))
    return [str(path), *written]


def _write_data(plan: CodePlan, target: Path) -> None:
    d = plan.data
    with open(target, "wb") as f:
        if plan.source == "digits":
            from importlib.resources import files

            with (files("bnviz") / "assets" / "digits.npz").open("rb") as fh:
                with np.load(fh, allow_pickle=False) as raw:
                    np.savez_compressed(f, X=raw["X"], y=raw["y"])
        else:
            np.savez_compressed(
                f, X_train=d.X_train, y_train=d.y_train, X_val=d.X_val, y_val=d.y_val
            )


# -- assembling the pieces ------------------------------------------------------------------------
def build_cells(plan: CodePlan) -> list[P.Piece]:
    """The pieces the plan needs, in reading order: settings, data, formulas, network, loop."""
    c = plan.config
    cells = [P.Piece(_title(plan), _imports(plan)), P.Piece(_settings_text(), _settings(plan))]
    cells += _data_cells(plan)
    cells.append(P.AFFINE)
    if plan.batchnorm:
        cells.append(P.BATCHNORM)
    cells += [P.ACTIVATIONS[c.activation], P.SOFTMAX, P.OPTIMIZERS[c.optimizer], P.MINIBATCHES]
    cells += [P.INIT, P.STEP_BN if plan.batchnorm else P.STEP_PLAIN, P.EVALUATE]
    cells.append(P.Piece(_loop_text(plan), _loop(plan)))
    if plan.notebook:
        cells.append(P.Piece("Train and print every evaluation.", "train(STEPS, EVAL_EVERY)\n"))
    else:
        cells.append(P.Piece("", _MAIN))
    return cells


def to_script(cells: list[P.Piece], plan: CodePlan) -> str:
    """The cells' code as one script, sections separated by two blank lines."""
    return "\n\n".join(cell.code.rstrip("\n") + "\n" for cell in cells)


def _describe(plan: CodePlan) -> str:
    c = plan.config
    hidden = ",".join(map(str, c.hidden)) or "no hidden layer"
    bn = "batch norm" if plan.batchnorm else "no batch norm"
    return (
        f"{c.dataset}, hidden {hidden} {c.activation}, {bn}, {c.optimizer} lr {c.lr:g}, "
        f"batch {c.batch_size}, seed {c.seed}"
    )


def _title(plan: CodePlan) -> str:
    note = f" ({plan.note})" if plan.note else ""
    return (
        f"# A bnviz run as code\n\n{_describe(plan)}{note}.\n\nWritten by bnviz {__version__} "
        "(`bnviz export-code`): NumPy and the standard library only, in float32, with the "
        "initialization, mini-batch order and evaluation of `bnviz train`, so the numbers it "
        "prints are the app's."
    )


def _imports(plan: CodePlan) -> str:
    doc = ""
    if not plan.notebook:
        doc = (
            f'"""A bnviz run as code: {_describe(plan)}.\n\n'
            f"Written by bnviz {__version__} (bnviz export-code); NumPy and the standard library "
            f"only.\nRun: python {plan.name} [--steps N] [--eval-every K]; it prints\n"
            'step=<int> val_loss=<float> val_acc=<float> at every evaluation.\n"""\n\n'
            "import argparse\n"
        )
    return (
        f"{doc}import math\nimport os\n\n"
        "# bnviz multiplies its small matrices on one BLAS thread: the same summation order\n"
        'os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")\n'
        'os.environ.setdefault("OMP_NUM_THREADS", "1")\n'
        "import numpy as np  # noqa: E402\n"
    )


def _settings_text() -> str:
    return "The settings of the run (what the app's controls held)."


def _settings(plan: CodePlan) -> str:
    c, d = plan.config, plan.data
    lines = ["DTYPE = np.float32", f"SEED = {c.seed}"]
    if plan.source == "planar":
        lines += [f"N_SAMPLES = {c.n_samples}", f"NOISE = {c.noise!r}"]
    if plan.source != "file":
        lines.append(f"VAL_FRACTION = {c.val_fraction!r}")
    if plan.data_file:
        if plan.notebook:
            lines.append(f"DATA_FILE = {plan.data_file!r}  # beside the notebook")
        else:
            lines.append(
                f"DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "
                f"{plan.data_file!r})"
            )
    gain = "2.0  # He init for ReLU" if c.activation == "relu" else "1.0  # Xavier init"
    lines += [
        f"N_CLASSES = {d.n_classes}",
        f"HIDDEN = {list(c.hidden)}",
        "N_LAYERS = len(HIDDEN) + 1  # weight layers: the hidden ones and the output layer",
        f"GAIN = {gain}",
        f"BATCHNORM = {plan.batchnorm}",
    ]
    if plan.batchnorm:
        lines += [f"BN_MOMENTUM = {c.bn_momentum!r}  # k", f"BN_EPS = {c.eps!r}"]
    lines += [f"BATCH_SIZE = {c.batch_size}", f"LR = {c.lr!r}  # alpha"]
    if c.lr_decay:
        lines.append(f"LR_DECAY = {c.lr_decay!r}")
    if c.optimizer in ("momentum", "adam"):
        lines.append(f"BETA = {c.momentum!r}")
    if c.optimizer in ("rmsprop", "adam"):
        lines += [f"BETA2 = {c.beta2!r}", f"ADAM_EPS = {ADAM_EPS!r}"]
    lines += [f"STEPS = {plan.steps}", f"EVAL_EVERY = {plan.eval_every}"]
    return "\n".join(lines) + "\n"


def _data_cells(plan: CodePlan) -> list[P.Piece]:
    c = plan.config
    if plan.source == "file":
        return [P.READY_SPLIT]
    if plan.source == "digits":
        made = P.MAKE_FROM_FILE
        text, seed = "The 8x8 digits (1797 images, pixel counts 0..16).", "SEED"
    elif c.dataset.strip().lower() == "xor":
        made, text, seed = P.MAKE_XOR, "The xor data set.", "[SEED, 1]"
    else:
        name = c.dataset.strip().lower()
        made = P.CLASS_COUNTS + "\n\n" + P.GENERATORS[name] + "\n\n" + P.MAKE_PLANAR
        text, seed = f"The {name} data set, generated.", "[SEED, 1]"
    load = (
        "def load_data():\n"
        '    """(X_train, y_train, X_val, y_val)."""\n'
        "    X, y = make_data()\n"
        f"    return split_and_standardize(X, y, {seed})\n"
    )
    return [P.Piece(text, made), P.Piece(P.SPLIT.markdown, P.SPLIT.code + "\n\n" + load)]


_STATE = {
    "sgd": "{}",
    "momentum": '{"v": np.zeros_like(w)}',
    "rmsprop": '{"s": np.zeros_like(w)}',
    "adam": '{"v": np.zeros_like(w), "s": np.zeros_like(w), "t": 0}',
}


def _loop_text(plan: CodePlan) -> str:
    text = "**The training loop**: a batch, its gradients, the update of every parameter"
    if plan.config.lr_decay:
        text += (
            " with the decayed rate $\\alpha = \\alpha_0/(1 + \\text{decay} \\cdot \\text{epoch})$"
        )
    return text + "; an evaluation every `eval_every` steps and at the last."


def _loop(plan: CodePlan) -> str:
    c = plan.config
    rate = "LR / (1.0 + LR_DECAY * epoch)" if c.lr_decay else "LR"
    tick = '            state[name]["t"] = step\n' if c.optimizer == "adam" else ""
    return (
        "def train(steps, eval_every):\n"
        '    """Train, printing step=, val_loss= and val_acc= at every evaluation."""\n'
        "    X_train, y_train, X_val, y_val = load_data()\n"
        "    params, buffers = init_network([X_train.shape[1], *HIDDEN, N_CLASSES], SEED)\n"
        f"    state = {{name: {_STATE[c.optimizer]} for name, w in params.items()}}\n"
        "    batches = minibatches(len(X_train), BATCH_SIZE, SEED)\n"
        "    for step in range(1, steps + 1):\n"
        "        idx, epoch = next(batches)\n"
        "        loss, grads = loss_and_grads(params, buffers, X_train[idx], y_train[idx])\n"
        "        if not math.isfinite(loss):\n"
        '            print(f"diverged at step {step}: the loss is {loss}")\n'
        "            break\n"
        "        for name, w in params.items():\n"
        f"{tick}"
        f"            update(w, grads[name], state[name], {rate})\n"
        "        if step % eval_every == 0 or step == steps:\n"
        "            val_loss, val_acc = evaluate(params, buffers, X_val, y_val)\n"
        '            print(f"step={step} val_loss={val_loss:.8g} val_acc={val_acc:.8g}")\n'
        "    return params, buffers\n"
    )


_MAIN = """\
if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help=f"default {STEPS}")
    parser.add_argument("--eval-every", type=int, default=EVAL_EVERY, help=f"default {EVAL_EVERY}")
    args = parser.parse_args()
    if args.steps < 1 or args.eval_every < 1:
        parser.error("--steps and --eval-every must be at least 1")
    train(args.steps, args.eval_every)
"""


def export_code(
    config: TrainConfig,
    out: str | os.PathLike[str],
    *,
    data: Dataset | None = None,
    steps: int | None = None,
    epochs: int | None = None,
    eval_every: int | None = None,
) -> tuple[CodePlan, list[str]]:
    """Plan and write an export in one call (the command and the window's menu use it);
    raises :class:`ExportError` (or ConfigError/DataError) with a one-line message."""
    if data is None:
        from bnviz.train.trainer import load_data

        data = load_data(config.validated())
    plan = plan_for(config, data, out, steps=steps, epochs=epochs, eval_every=eval_every)
    return plan, write_code(plan, out)


__all__ = ["CodePlan", "ConfigError", "DataError", "ExportError", "export_code", "plan_for"]
