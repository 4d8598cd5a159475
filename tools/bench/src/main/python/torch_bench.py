#!/usr/bin/env python3
"""PyTorch side of `./run.sh bench compare`: times training steps of an MLP on MNIST.

One process is one timed run: it reads the same gzip (or raw) IDX files the trainer reads,
normalises them once into a float32 tensor (as forkprop does: (x/255 - 0.1307) / 0.3081),
shuffles it once (seed --seed) so that every batch is a contiguous view (no gather, no
DataLoader), builds nn.Sequential(Linear, ReLU, ..., Linear) with He-normal weights and zero
biases (forkprop's default init) and the optimizer with forkprop's hyper-parameters, runs
--warmup-steps untimed steps (at least one: its loss is the "first loss") and then --steps timed
ones (time.perf_counter around each step, summed), and prints one JSON line on stdout, the last
line it writes there. With --max-seconds the warm-up and the timed steps each stop once they have
taken that long, and samples/s is over the steps done. Errors go to stderr with exit code 1. On
Linux the process ends when its parent does (PR_SET_PDEATHSIG), so an interrupted benchmark leaves
no run behind.

Threads: --intra-op N calls torch.set_num_threads(N) (ATen's OpenMP pool). The BLAS pool (Debian's
torch calls libblas.so.3, OpenBLAS here) reads OPENBLAS_NUM_THREADS when it loads, so the caller
sets that variable in this process's environment; the JSON reports what OpenBLAS says it uses,
and which kernels it chose (blas_core: its CPU detection, or OPENBLAS_CORETYPE if set).

What this is not: a training script (no evaluation, no epochs), or a benchmark of data loading.

`torch_bench.py --probe` prints one JSON line (torch version, BLAS library) and exits 0 when torch
imports, else prints the import error to stderr and exits 3.
"""
import argparse
import ctypes
import gzip
import json
import math
import os
import sys
import time

EXIT_NO_TORCH = 3


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--probe", action="store_true", help="print torch's version and BLAS, then exit")
    p.add_argument("--data", help="folder holding train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]")
    p.add_argument("--model", default="784-100-10", help="compact spec: input-hidden...-output widths, ReLU between")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "momentum", "nesterov", "adam", "adamw"])
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.999)
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--intra-op", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--warmup-steps", type=int, default=5)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--max-seconds", type=float, default=0, help="stop the timed steps after this long (0: never)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    if not a.probe and a.data is None:
        p.error("--data is required")
    return a


def die_with_parent():
    """Linux: SIGTERM when the parent (the benchmark's JVM) exits, however it exits."""
    try:
        libc = ctypes.CDLL(None)
        pr_set_pdeathsig, sigterm = 1, 15
        libc.prctl(pr_set_pdeathsig, sigterm)
    except (OSError, AttributeError):
        pass


def blas_library():
    """Path of the loaded BLAS (libblas / libopenblas) from /proc/self/maps, or None."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                name = os.path.basename(path)
                if name.startswith(("libopenblas", "libblas", "libmkl_rt", "libblis")):
                    return path
    except OSError:
        pass
    return None


def blas_core(path):
    """openblas_get_corename() of the loaded BLAS (the kernels OpenBLAS chose), or None."""
    if path is None:
        return None
    try:
        f = ctypes.CDLL(path).openblas_get_corename
        f.restype = ctypes.c_char_p
        return f().decode()
    except (OSError, AttributeError):
        return None


def blas_threads(path):
    """openblas_get_num_threads() of the loaded BLAS, or None if it has no such function."""
    if path is None:
        return None
    try:
        return int(ctypes.CDLL(path).openblas_get_num_threads())
    except (OSError, AttributeError):
        return None


def read_idx(folder, stem):
    """The payload and dimensions of <folder>/<stem>.gz, else <folder>/<stem>."""
    gz = os.path.join(folder, stem + ".gz")
    if os.path.exists(gz):
        with gzip.open(gz, "rb") as f:
            raw = f.read()
    else:
        with open(os.path.join(folder, stem), "rb") as f:
            raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return raw[4 + 4 * ndim:], dims


def load_mnist(torch, folder):
    """Images [60000, 784] float32, normalised as forkprop normalises them; labels [60000] int64."""
    px, dims = read_idx(folder, "train-images-idx3-ubyte")
    lb, _ = read_idx(folder, "train-labels-idx1-ubyte")
    x = torch.frombuffer(bytearray(px), dtype=torch.uint8).reshape(dims[0], dims[1] * dims[2]).float()
    x = (x / 255.0 - 0.1307) / 0.3081
    y = torch.frombuffer(bytearray(lb), dtype=torch.uint8).long()
    return x.contiguous(), y


def build_model(torch, spec):
    widths = [int(w) for w in spec.split("-")]
    if len(widths) < 2 or min(widths) <= 0:
        raise ValueError("model spec must be widths like 784-100-10, got " + spec)
    layers = []
    for i in range(len(widths) - 1):
        lin = torch.nn.Linear(widths[i], widths[i + 1])
        # forkprop's default: He-normal weights (std sqrt(2 / fan_in)), zero biases.
        torch.nn.init.kaiming_normal_(lin.weight, mode="fan_in", nonlinearity="relu")
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU(inplace=True))
    return torch.nn.Sequential(*layers)


def build_optimizer(torch, a, params):
    # foreach=True: one multi-tensor kernel per state update instead of one per parameter tensor.
    # Measured here (torch 1.13.1, 1 thread): Adam on 784-256-256-10 b128 about 30% faster, SGD and
    # momentum the same within noise. PyTorch 1.13 defaults to foreach only for CUDA tensors.
    common = {"lr": a.lr, "weight_decay": a.weight_decay, "foreach": True}
    if a.optimizer == "sgd":
        return torch.optim.SGD(params, **common)
    if a.optimizer in ("momentum", "nesterov"):
        return torch.optim.SGD(params, momentum=a.momentum, nesterov=a.optimizer == "nesterov", **common)
    if a.optimizer == "adam":
        return torch.optim.Adam(params, betas=(a.beta1, a.beta2), eps=a.eps, **common)
    return torch.optim.AdamW(params, betas=(a.beta1, a.beta2), eps=a.eps, **common)


def main(argv):
    a = parse_args(argv)
    die_with_parent()
    try:
        import torch
    except ImportError as e:
        print("torch_bench: cannot import torch (%s) with %s" % (e, sys.executable), file=sys.stderr)
        return EXIT_NO_TORCH
    lib = blas_library()
    info = {"torch_version": torch.__version__, "python": sys.executable, "blas_library": lib,
            "blas_core": blas_core(lib), "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}
    if a.probe:
        print(json.dumps(info), flush=True)
        return 0
    torch.set_num_threads(a.intra_op)
    torch.manual_seed(a.seed)
    t0 = time.perf_counter()
    x, y = load_mnist(torch, a.data)
    # Shuffle once, so that each batch is a contiguous slice (a view): no per-step gather.
    perm = torch.randperm(x.shape[0])
    x, y = x[perm].contiguous(), y[perm].contiguous()
    load_s = time.perf_counter() - t0
    model = build_model(torch, a.model)
    if model[0].in_features != x.shape[1]:
        raise ValueError("the data has %d features, the model takes %d" % (x.shape[1], model[0].in_features))
    opt = build_optimizer(torch, a, model.parameters())
    loss_fn = torch.nn.functional.cross_entropy
    b, per_epoch = a.batch, x.shape[0] // a.batch

    def step(s):
        i = (s % per_epoch) * b
        xb, yb = x[i:i + b], y[i:i + b]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    first_loss = step(0).item()
    warm, began = 1, time.perf_counter()
    while warm < a.warmup_steps and not 0 < a.max_seconds < time.perf_counter() - began:
        step(warm)
        warm += 1
    timed, done = 0.0, 0
    while done < a.steps and not 0 < a.max_seconds < timed:
        start = time.perf_counter()
        loss = step(warm + done)
        timed += time.perf_counter() - start
        done += 1
    last_loss = loss.item()
    info.update({
        "model": a.model, "batch": b, "optimizer": a.optimizer, "lr": a.lr,
        "intra_op_threads": torch.get_num_threads(),
        "blas_threads": blas_threads(lib),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "warmup_steps": warm, "steps": done, "steps_asked": a.steps,
        "timed_s": timed, "samples_per_sec": done * b / timed if timed > 0 else None,
        "load_s": load_s, "first_loss": first_loss, "last_loss": last_loss,
    })
    # JSON has no NaN: a diverged loss is written as null.
    print(json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in info.items()}),
          flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # one line for the Java side, which shows stderr on failure
        print("torch_bench: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
