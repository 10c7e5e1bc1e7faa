"""The plugin's solvers: identity list, identity check and the network converter, as Results.

Light at import (numpy is loaded inside the functions), so registering them costs nothing.
`notation="latex"` puts statements and rules in LaTeX math ($...$) for the latex reporter.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import replace

from cnnplan import BadInput, Result, Table, check_output

from .limits import (ACTIVATIONS, DEFAULT_SAMPLES, MAX_CHECK_WORK, Residual, check_samples,
                     check_seed)

NOTATIONS = ("text", "latex")


def _notation(notation: str) -> str:
    if notation not in NOTATIONS:
        raise BadInput(f"unknown notation {notation!r}; choose one of: {', '.join(NOTATIONS)}")
    return notation


def _statement(identity, notation: str) -> str:
    return f"${identity.latex}$" if notation == "latex" else identity.statement


def _finite(value):
    """JSON-safe numbers: non-finite floats become None; containers are walked."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def identity_list(notation: str = "text") -> Result:
    """Every identity: name, assignment question and statement."""
    from .identities import IDENTITIES

    notation = _notation(notation)
    rows = tuple((i.name, i.question, _statement(i, notation)) for i in IDENTITIES)
    return Result(
        title=f"{len(IDENTITIES)} activation-function identities (assignment questions 1-3)",
        tables=(Table(("identity", "question", "statement"), rows, wrap=("statement",)),),
        notes=("Check one with 'cnnplan identity check NAME', or all with "
               "'cnnplan identity check all'.",),
        data=[{"name": i.name, "question": i.question, "statement": i.statement,
               "latex": i.latex, "sheet_error": i.sheet or None} for i in IDENTITIES],
        kind="identity-list",
    )


def run_check(identity, samples: int, seed: int):
    """The Evidence for one identity; its random stream depends only on (seed, name)."""
    import numpy as np

    from .checks import CHECKS

    rng = np.random.default_rng([seed, zlib.crc32(identity.name.encode())])
    return CHECKS[identity.name](rng, samples)


def _verdict(passed: bool) -> str:
    return "holds" if passed else "FAILS"


def identity_check(identity: str = "all", samples: int = DEFAULT_SAMPLES, seed: int = 0,
                   notation: str = "text") -> Result:
    """Check the identity named `identity` (or "all") numerically; exit code 1 if any fails."""
    from .identities import select

    chosen = select(identity)
    samples, seed, notation = check_samples(samples), check_seed(seed), _notation(notation)
    checked = [(one, run_check(one, samples, seed)) for one in chosen]
    failed = [one.name for one, evidence in checked if not evidence.passed]
    data = {"samples": samples, "seed": seed, "passed": not failed,
            "identities": [_finite(_identity_data(*pair)) for pair in checked]}
    result = _one_result(*checked[0], seed, notation) if len(checked) == 1 else \
        _all_result(checked, failed, samples, seed, notation)
    return replace(result, data=data, exit_code=1 if failed else 0)


def _one_result(identity, evidence, seed: int, notation: str) -> Result:
    return Result(
        title=f"{identity.name} (question {identity.question}): {_verdict(evidence.passed)}",
        facts=(("statement", _statement(identity, notation)),
               ("assignment", f"wrong: {identity.sheet}" if identity.sheet else "right"),
               ("evidence", evidence.method),
               ("seed", seed),
               (evidence.measure, Residual(evidence.max_error)),
               ("tolerance", evidence.tolerance),
               ("verdict", _verdict(evidence.passed))),
        tables=evidence.tables, notes=evidence.notes, kind="identity-check")


def _all_result(checked, failed, samples: int, seed: int, notation: str) -> Result:
    summary = tuple((i.name, i.question, _statement(i, notation), Residual(e.max_error),
                     e.tolerance,
                     _verdict(e.passed)) for i, e in checked)
    relative = [i.name for i, e in checked if e.measure == "max relative error"]
    heading = "summary" + (f" (max error is relative for {', '.join(relative)}, absolute for "
                           "the rest)" if relative else "")
    tables = [Table(("identity", "question", "statement", "max error", "tolerance", "verdict"),
                    summary, heading, wrap=("statement",))]
    notes = []
    for identity, evidence in checked:
        tables += [Table(t.columns, t.rows, f"{identity.name}: {t.title}") for t in evidence.tables]
        notes += [f"{identity.name}: {note}" for note in evidence.notes]
        if identity.sheet:
            notes.append(f"{identity.name}: the assignment sheet is wrong here: {identity.sheet}.")
    verdict = "all hold" if not failed else f"{len(failed)} FAIL ({', '.join(failed)})"
    return Result(
        title=f"{len(checked)} identities checked: {verdict}",
        facts=(("samples", samples), ("seed", seed), ("verdict", verdict)),
        tables=tuple(tables), notes=tuple(notes), kind="identity-check")


def _identity_data(identity, evidence) -> dict:
    return {"name": identity.name, "question": identity.question,
            "statement": identity.statement, "latex": identity.latex,
            "sheet_error": identity.sheet or None, "method": evidence.method,
            "measure": evidence.measure, "max_error": evidence.max_error,
            "tolerance": evidence.tolerance, "passed": evidence.passed,
            "tables": [{"title": t.title, "columns": list(t.columns),
                        "rows": [list(r) for r in t.rows]} for t in evidence.tables],
            "notes": list(evidence.notes), **evidence.data}


def convert(weights, source: str = "sigmoid", target: str = "tanh", output=None,
            samples: int | None = None, seed: int = 0, notation: str = "text") -> Result:
    """Convert a 2-layer network between sigmoid and tanh hidden units, and verify it.

    `weights` is a .npz/.json path or a mapping with W1, b1, W2, b2; `output` (optional) a
    .npz/.json path to write the converted parameters to (only if the check passes).
    `samples`: random inputs of the check (default DEFAULT_SAMPLES, fewer for a network so
    large that the check would pass MAX_CHECK_WORK).
    """
    result, write = prepare_conversion(weights, source, target, output, samples, seed, notation)
    if write is not None:
        write().commit()
    return result


def prepare_conversion(weights, source: str = "sigmoid", target: str = "tanh", output=None,
                       samples: int | None = None, seed: int = 0, notation: str = "text"):
    """`convert` without writing: (Result, write), where `write()` stages the output file
    (cnnplan.stage; None when there is nothing to write) for the caller to commit. The command renders the Result first, so nothing is
    written unless everything else succeeded."""
    import numpy as np

    from . import network, weights as weight_files

    for option, value in (("--from", source), ("--to", target)):
        if value not in ACTIVATIONS:
            raise BadInput(f"{option} {value!r} is not an activation; choose one of: "
                           f"{', '.join(ACTIVATIONS)}")
    if source == target:
        raise BadInput(f"--from and --to are both {source}; nothing to convert")
    if samples is not None:
        samples = check_samples(samples)
    seed, notation = check_seed(seed), _notation(notation)
    if output is not None:
        weight_files.file_format(output, "output file")
        check_output(output)
    if isinstance(weights, (str, bytes)) or hasattr(weights, "__fspath__"):
        if output is not None and _same_file(weights, output):
            raise BadInput(f"output file {str(output)!r} is the weights file; choose another "
                           "name (the original is kept)")
        net, extra = weight_files.load(weights)
        origin = str(weights)
    else:
        net, extra, origin = weight_files.validate(weights), [], "(in memory)"

    samples = _check_samples(samples, net)
    with np.errstate(all="ignore"):  # overflow shows as inf, refused just below
        converted = network.convert(net, source, target)
    if not all(np.all(np.isfinite(p)) for p in converted):
        raise BadInput("the converted parameters overflow float64; the weights are too large "
                       "to convert")
    rng = np.random.default_rng(seed)
    inputs = network.random_inputs(rng, samples, net.sizes[0], network.batch_rows(net))
    check = network.compare(net, source, converted, target, inputs)
    if not math.isfinite(check.max_abs_output):
        raise BadInput("the weights are too large: the network's outputs overflow float64 on "
                       "the check inputs, so the conversion cannot be verified")
    _, identity_text, identity_latex, rules = network.CONVERSIONS[(source, target)]
    d, m, k = net.sizes
    latex = notation == "latex"
    rows = tuple((r.parameter, " x ".join(map(str, p.shape)), f"${r.latex}$" if latex else r.text)
                 for r, p in zip(rules, converted))
    written = (str(output) if check.passed else "nothing (check failed)") if output is not None \
        else "nothing (no -o OUT given)"
    notes = []
    if extra:
        notes.append(f"Ignored arrays not part of the network: {', '.join(extra)} "
                     "(not copied to the output).")
    result = Result(
        title=f"{source} -> {target}: {'equivalent' if check.passed else 'NOT equivalent'}",
        facts=(("weights", origin),
               ("network", f"D = {d}, M = {m}, K = {k} (inputs, hidden units, outputs)"),
               ("identity used", f"${identity_latex}$" if latex else identity_text),
               ("check", f"{samples} random inputs x ~ N(0, I), seed {seed}"),
               ("max |y|", check.max_abs_output),
               ("max |y - y'|", Residual(check.max_abs_error)),
               ("relative error", Residual(check.relative_error)),
               ("tolerance", network.TOLERANCE),
               ("verdict", "equivalent" if check.passed else "NOT equivalent"),
               ("written", written)),
        tables=(Table(("parameter", "shape", "rule"), rows, "transformation"),),
        notes=tuple(notes),
        data=_finite({
            "from": source, "to": target, "weights": origin,
            "sizes": {"D": d, "M": m, "K": k},
            "transformation": {r.parameter: r.text for r in rules},
            "check": {"samples": samples, "seed": seed,
                      "max_abs_output": check.max_abs_output,
                      "max_abs_error": check.max_abs_error,
                      "relative_error": check.relative_error,
                      "tolerance": network.TOLERANCE, "passed": check.passed},
            "output": str(output) if output is not None and check.passed else None,
            "ignored": extra,
            "parameters": {key: value.tolist() for key, value in zip(network.KEYS, converted)},
        }),
        exit_code=0 if check.passed else 1,
        kind="activation-convert",
    )
    write = None
    if output is not None and check.passed:
        def write():  # staged: put in place once the answer is printed
            return weight_files.save(converted, output)
    return result, write


def _check_samples(samples: int | None, net) -> int:
    """The number of check inputs: `samples`, or by default DEFAULT_SAMPLES lowered so that
    samples x parameters stays within MAX_CHECK_WORK (BadInput when a given one does not)."""
    parameters = sum(p.size for p in net)
    most = max(1, MAX_CHECK_WORK // parameters)
    if samples is None:
        return min(DEFAULT_SAMPLES, most)
    if samples > most:
        raise BadInput(f"--samples {samples} is too many for {parameters:,} parameters: the "
                       f"check would take {samples * parameters:,} multiply-adds per network, "
                       f"above the limit {MAX_CHECK_WORK:,}; use --samples {most} or fewer")
    return samples


def _same_file(a, b) -> bool:
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)
