"""`Int8Linear`: a Linear layer with int8 weights for CPU, run by fbgemm's dynamic int8 kernel.

The weight is quantised once, symmetrically with one scale per matrix (what torch's default dynamic
qconfig does, so outputs are the same as `quantize_dynamic`'s), and packed once. Activations are quantised
per call by the kernel (7-bit range, as torch does on x86). Building it this way, rather than through
`torch.ao.nn.quantized.dynamic.Linear.from_float`, packs each matrix once instead of three times and never
makes a randomly initialised float layer first: the 0.5B model loads in a third of the time.
"""

from __future__ import annotations

import torch

QMIN, QMAX = -128, 127


class Int8Linear(torch.nn.Module):
    """y = x·Wᵀ + b with W held as int8 (one scale per matrix) and packed for fbgemm."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        self.out_features, self.in_features = weight.shape
        weight = weight.detach().float()
        # MinMaxObserver(qint8, per_tensor_symmetric): the largest magnitude maps to the half range.
        bound = torch.maximum(-weight.min().clamp(max=0), weight.max().clamp(min=0))
        scale = torch.clamp(bound / ((QMAX - QMIN) / 2), min=torch.finfo(torch.float32).eps)
        qweight = torch.quantize_per_tensor(weight, float(scale), 0, torch.qint8)
        self._packed = torch.ops.quantized.linear_prepack(qweight, None if bias is None else bias.detach().float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.quantized.linear_dynamic(x, self._packed, reduce_range=True).to(x.dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


def quantize_linears(model: torch.nn.Module) -> torch.nn.Module:
    """Every torch.nn.Linear of `model` replaced in place by its `Int8Linear`; returns `model`."""
    for name, module in list(model.named_modules()):
        if isinstance(module, torch.nn.Linear):
            model.set_submodule(name, Int8Linear(module.weight, module.bias))
    return model
