"""The torch engine builds a model without a random initialisation, then loads every tensor."""

from __future__ import annotations

import pytest

from anagnorisis_tui.core.semantic import engine as embeddings
from anagnorisis_tui.core.semantic import model_choice as models

pytestmark = pytest.mark.slow


def test_loaded_weights_are_the_checkpoint_and_init_is_restored(tiny_embedder):
    # torch is imported here, not when the module is collected: the fast lane collects this
    # module too (and deselects it), and importing torch costs seconds of a loaded CPU.
    import torch
    from safetensors.torch import load_file

    choice = models.resolve(models.TINY_CLIP, "", "cpu")
    checkpoint = load_file(str(choice.weights))
    state = tiny_embedder.model.state_dict()
    for name, tensor in checkpoint.items():
        assert torch.equal(state[name].to(tensor.dtype), tensor), name
    # Outside the loader torch initialises as usual.
    layer = torch.nn.Linear(64, 64)
    assert embeddings._unchanged is not torch.nn.init.kaiming_uniform_
    assert layer.weight.std() > 0
