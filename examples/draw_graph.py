"""Draw the tape of a small loss and of a small MLP's loss after backward, as SVG pictures.

python examples/draw_graph.py --out docs/images
"""

import os

from _common import arguments

import minigrad as mg
from minigrad import nn, viz
from minigrad.errors import MissingDependency
from minigrad.nn import functional as F


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = mg.tensor([0.5, 0.5, 0.5], requires_grad=True)
    loss = ((x * w).tanh() - 1).pow(2).mean()
    loss.backward(retain_graph=True)
    graphs = {"tape.svg": viz.draw(loss, params={"x": x, "w": w}, show_grads=True, show_values=True)}

    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    inputs, targets = mg.randn(16, 4), mg.randint(0, 3, (16,))
    mlp_loss = F.cross_entropy(model(inputs), targets)
    mlp_loss.backward(retain_graph=True)
    graphs["mlp_tape.svg"] = viz.draw(mlp_loss, params=dict(model.named_parameters()), show_grads=True)

    os.makedirs(args.out, exist_ok=True)
    for name, graph in graphs.items():
        print(graph)
        try:
            print(f"picture: {graph.save(os.path.join(args.out, name))}")
        except MissingDependency as missing:
            print(f"(no picture: {missing})")
    return graphs


if __name__ == "__main__":
    main()
