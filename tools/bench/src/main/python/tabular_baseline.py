#!/usr/bin/env python3
"""The tabular comparison's other side: scikit-learn's MLP on standardised features.

Writes each dataset's train/test split as CSV into OUT (what `./run.sh train --data` reads), then
trains scikit-learn's MLPClassifier / MLPRegressor with one hidden layer of 64 units behind a
StandardScaler on the same split, five seeds, and prints the median test accuracy (classification)
or mean squared error (regression). Datasets: wine, breast cancer and diabetes (raw, unscaled
features) ship with scikit-learn; Pima Indians diabetes comes from R's mlbench package when
Rscript is installed (apt-get install python3-sklearn r-cran-mlbench).

usage: tabular_baseline.py OUT
"""
import os
import subprocess
import sys

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def write(path, columns, x, y, classification):
    with open(path, "w") as f:
        f.write(",".join(columns) + "\n")
        for row, t in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + "," + (str(int(t)) if classification else repr(float(t))) + "\n")


def pima():
    """Pima Indians diabetes from mlbench, or None without R."""
    script = ('library(mlbench); data(PimaIndiansDiabetes); d <- PimaIndiansDiabetes; '
              'd$diabetes <- as.integer(d$diabetes == "pos"); write.csv(d, stdout(), row.names=FALSE, quote=FALSE)')
    try:
        text = subprocess.run(["Rscript", "-e", script], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    lines = text.strip().split("\n")
    a = np.array([[float(c) for c in line.split(",")] for line in lines[1:]])
    return lines[0].split(",")[:-1], a[:, :-1], a[:, -1]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    sets = []
    for name, loader in (("wine", load_wine), ("breast-cancer", load_breast_cancer)):
        d = loader()
        sets.append((name, [c.replace(" ", "_").replace("/", "_") for c in d.feature_names], d.data, d.target, True))
    p = pima()
    if p is not None:
        sets.append(("pima",) + p + (True,))
    d = load_diabetes(scaled=False)
    sets.append(("diabetes", list(d.feature_names), d.data, d.target, False))
    for name, columns, x, y, classification in sets:
        label = "label" if classification else "target"
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y if classification else None)
        write(os.path.join(out, name + "-train.csv"), columns + [label], xtr, ytr, classification)
        write(os.path.join(out, name + "-test.csv"), columns + [label], xte, yte, classification)
        scores = []
        for seed in range(5):
            if classification:
                m = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), max_iter=2000, random_state=seed))
                scores.append(accuracy_score(yte, m.fit(xtr, ytr).predict(xte)))
            else:
                m = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(64,), max_iter=5000, random_state=seed))
                scores.append(mean_squared_error(yte, m.fit(xtr, ytr).predict(xte)))
        print("%s: %d train, %d test rows, %d features; scikit-learn MLP(64), standardised: %s %.4f (seeds 0-4: %s)" % (
            name, len(xtr), len(xte), x.shape[1], "accuracy" if classification else "MSE", float(np.median(scores)),
            " ".join("%.4f" % s for s in scores)))


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    main()
