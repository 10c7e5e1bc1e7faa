"""Write the sample sigmoid network used by q3.md: sigmoid_net.json and sigmoid_net.npz.

    python examples/activations/sample_weights.py

D = 3 inputs, M = 4 hidden units, K = 2 outputs, weights rounded to 3 decimals so the JSON is
easy to read. tests/test_activations_examples.py checks the committed files match.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 5
SHAPES = {"W1": (4, 3), "b1": (4,), "W2": (2, 4), "b2": (2,)}


def sample_network():
    """The sample network as a cnnplan_activations Network."""
    import numpy as np

    from cnnplan_activations.network import Network

    rng = np.random.default_rng(SEED)
    return Network(*(np.round(rng.normal(0.0, 1.5, shape), 3) for shape in SHAPES.values()))


def main(directory: Path = HERE) -> None:
    from cnnplan_activations.weights import save

    for suffix in (".json", ".npz"):
        save(sample_network(), directory / f"sigmoid_net{suffix}")
        print(directory / f"sigmoid_net{suffix}")


if __name__ == "__main__":
    main()
