"""Independent reference values for the evaluation toolkit's statistics.

Reads a JSON list of tasks on stdin and prints a JSON list of results, one per task. Every value
comes from scipy / scikit-learn / statsmodels or from a direct numpy implementation of the
published formula, never from the TypeScript code under test.
"""
import itertools
import json
import sys

import numpy as np
from scipy import stats
from sklearn.metrics import cohen_kappa_score, roc_auc_score, roc_curve
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa


def delong_structural_components(scores, labels):
    """DeLong et al. (1988): psi(X, Y) over all tumor/normal pairs, O(m n), no ranks."""
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=bool)
    x = scores[labels][:, None]
    y = scores[~labels][None, :]
    psi = (x > y).astype(float) + 0.5 * (x == y)
    v10 = psi.mean(axis=1)
    v01 = psi.mean(axis=0)
    auc = psi.mean()
    variance = v10.var(ddof=1) / len(v10) + v01.var(ddof=1) / len(v01)
    return auc, float(np.sqrt(variance))


def fleiss_kappa_se(a, b):
    """Fleiss, Cohen and Everitt (1969) large-sample variance of Cohen's kappa, matrix form."""
    table = np.zeros((2, 2))
    for i, j in zip(a, b):
        table[int(i), int(j)] += 1
    n = table.sum()
    p = table / n
    rows = p.sum(axis=1)
    cols = p.sum(axis=0)
    po = np.trace(p)
    pe = float(rows @ cols)
    kappa = (po - pe) / (1 - pe)
    weights = np.add.outer(cols, rows)  # w[i, j] = p.i + pj.
    off = sum(p[i, j] * weights[i, j] ** 2 for i in range(2) for j in range(2) if i != j)
    diag = sum(p[i, i] * (1 - (rows[i] + cols[i]) * (1 - kappa)) ** 2 for i in range(2))
    variance = (diag + (1 - kappa) ** 2 * off - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2)
    return float(kappa), float(np.sqrt(variance))


def fleiss_kappa_null_se(table):
    """Fleiss, Nee and Landis (1979) asymptotic standard error of Fleiss' kappa (under kappa = 0)."""
    table = np.asarray(table, dtype=float)
    subjects = table.shape[0]
    raters = table[0].sum()
    p = table.sum(axis=0) / (subjects * raters)
    q = 1 - p
    spread = float(np.sum(p * q))
    variance = 2 / (subjects * raters * (raters - 1) * spread**2) * (spread**2 - float(np.sum(p * q * (q - p))))
    return float(np.sqrt(variance))


def freeman_halton(table):
    """Exact conditional test of an r x 2 table by enumerating its multivariate hypergeometric law."""
    table = np.asarray(table, dtype=int)
    rows = table.sum(axis=1)
    column = int(table[:, 1].sum())
    observed = stats.multivariate_hypergeom.pmf(table[:, 1], m=rows, n=column)
    total = 0.0
    for cells in itertools.product(*[range(r + 1) for r in rows]):
        if sum(cells) != column:
            continue
        pmf = stats.multivariate_hypergeom.pmf(list(cells), m=rows, n=column)
        if pmf <= observed * (1 + 1e-7):
            total += pmf
    return min(1.0, total)


def exact_kappa_permutation(model, reader, truth):
    """Two-sided P of the kappa difference over every swap of the patients where the raters differ."""
    model = np.asarray(model, dtype=int)
    reader = np.asarray(reader, dtype=int)
    observed = cohen_kappa_score(model, truth) - cohen_kappa_score(reader, truth)
    differing = np.flatnonzero(model != reader)
    extreme = 0
    count = 0
    for swaps in itertools.product([False, True], repeat=len(differing)):
        first = model.copy()
        second = reader.copy()
        chosen = differing[list(swaps)]
        first[chosen], second[chosen] = reader[chosen], model[chosen]
        difference = cohen_kappa_score(first, truth) - cohen_kappa_score(second, truth)
        extreme += abs(difference) >= abs(observed) - 1e-12
        count += 1
    return float(observed), extreme / count


def run(task):
    kind = task["kind"]
    if kind == "auc":
        fpr, tpr, _ = roc_curve(task["labels"], task["scores"], drop_intermediate=False)
        auc, se = delong_structural_components(task["scores"], task["labels"])
        return {
            "sklearnAuc": roc_auc_score(task["labels"], task["scores"]),
            "delongAuc": auc,
            "delongSe": se,
            "fpr": fpr.tolist(),
            "tpr": tpr.tolist(),
        }
    if kind == "clopper-pearson":
        k, n = task["k"], task["n"]
        lower = 0.0 if k == 0 else stats.beta.ppf(0.025, k, n - k + 1)
        upper = 1.0 if k == n else stats.beta.ppf(0.975, k + 1, n - k)
        return {"lower": float(lower), "upper": float(upper)}
    if kind == "kappa":
        kappa, se = fleiss_kappa_se(task["a"], task["b"])
        return {"sklearn": float(cohen_kappa_score(task["a"], task["b"])), "kappa": kappa, "se": se}
    if kind == "fleiss":
        # ratings: one row per rater, one column per subject; statsmodels counts the categories.
        table, _ = aggregate_raters(np.asarray(task["ratings"], dtype=int).T, n_cat=2)
        return {"kappa": float(fleiss_kappa(table, method="fleiss")), "se": fleiss_kappa_null_se(table)}
    if kind == "mcnemar":
        b, c = task["b"], task["c"]
        return {"p": 1.0 if b + c == 0 else float(stats.binomtest(b, b + c, 0.5).pvalue)}
    if kind == "chi2":
        statistic, p, dof, _ = stats.chi2_contingency(np.asarray(task["table"]), correction=False)
        return {"statistic": float(statistic), "p": float(p), "dof": int(dof)}
    if kind == "chi2-sf":
        return {"p": float(stats.chi2.sf(task["x"], task["df"]))}
    if kind == "fisher":
        return {"p": float(stats.fisher_exact(np.asarray(task["table"]))[1])}
    if kind == "freeman-halton":
        return {"p": freeman_halton(task["table"])}
    if kind == "kappa-permutation":
        difference, p = exact_kappa_permutation(task["model"], task["reader"], task["truth"])
        return {"difference": difference, "p": p}
    if kind == "percentile":
        return {"value": float(np.percentile(task["values"], task["q"] * 100))}
    raise ValueError(f"unknown task {kind}")


if __name__ == "__main__":
    print(json.dumps([run(task) for task in json.load(sys.stdin)]))
