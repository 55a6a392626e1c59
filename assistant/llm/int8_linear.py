"""`Int8Linear`: a Linear layer with int8 weights for CPU, run by oneDNN's int8 matrix kernel.

Each weight matrix is quantised once, symmetrically with one scale per output channel, and packed once for
oneDNN (`torch.ops.onednn.qlinear_prepack`, plain int8 tensors: not the deprecated quantized tensor types
of `torch.ao` and fbgemm, which this replaced). Activations are quantised on each call to 8 bits with one
scale per token. Against the model's own fp32 greedy reasons this keeps 30% of them identical, where
fbgemm's one scale per matrix and per call kept none; long prompts run faster, a decoding step somewhat
slower (docs/llm.md, "int8 on oneDNN").

q, k and v (and an MLP's gate and up) read the same input tensor: `InputQuantizer` quantises it once for
all of them.
"""

from __future__ import annotations

import torch

_EPS = torch.finfo(torch.float32).eps
_OFFSET = 128  # oneDNN takes uint8 activations: a symmetric int8 value q is passed as q + 128, zero point 128


def quantize_rows(weight: torch.Tensor, chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """`weight` as int8 with one symmetric scale per row: (int8 rows, float32 scales). Done a block of rows
    at a time, so a 152k-row embedding needs no full-size float temporaries."""
    weight = weight.detach()
    rows = torch.empty(weight.shape, dtype=torch.int8)
    scales = torch.empty(weight.shape[0], dtype=torch.float32)
    for start in range(0, weight.shape[0], chunk):
        block = weight[start:start + chunk].float()
        scale = (block.abs().amax(dim=1) / 127).clamp_(min=_EPS)
        scales[start:start + chunk] = scale
        rows[start:start + chunk] = torch.round(block / scale[:, None]).clamp_(-127, 127)
    return rows, scales


class InputQuantizer:
    """Quantises an activation tensor per token, remembering the last one: the next layer given the very same
    tensor object gets the same result. One per model; calls are serialised by the model's lock."""

    def __init__(self) -> None:
        self._last: torch.Tensor | None = None
        self._result: tuple[torch.Tensor, torch.Tensor] = (torch.empty(0), torch.empty(0))

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(uint8 rows of `x` flattened to 2-D, offset by 128; each row's scale, shape (rows, 1))."""
        if x is not self._last:  # the model never changes a layer's input in place between its readers
            rows = x.reshape(-1, x.shape[-1]).float()
            scale = (rows.abs().amax(dim=-1, keepdim=True) / 127).clamp_(min=_EPS)
            quantised = torch.round(rows / scale).add_(_OFFSET).to(torch.uint8)
            self._last, self._result = x, (quantised, scale)
        return self._result


class Int8Linear(torch.nn.Module):
    """y = x·Wᵀ + b with W held as int8, one scale per output channel, packed for oneDNN."""

    def __init__(self, rows: torch.Tensor, scales: torch.Tensor, bias: torch.Tensor | None,
                 inputs: InputQuantizer | None = None) -> None:
        """From int8 `rows` (out × in) and their `scales` (see `quantize_rows`)."""
        super().__init__()
        self.out_features, self.in_features = rows.shape
        self.scales = scales
        self._packed = torch.ops.onednn.qlinear_prepack(rows, None)
        self._zero_points = torch.zeros(self.out_features, dtype=torch.long)
        self.bias = None if bias is None else bias.detach().float()
        self._inputs = inputs if inputs is not None else InputQuantizer()

    @classmethod
    def of(cls, weight: torch.Tensor, bias: torch.Tensor | None, inputs: InputQuantizer | None = None) -> "Int8Linear":
        """The int8 layer of a float `weight` (out × in)."""
        return cls(*quantize_rows(weight), bias, inputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        quantised, scale = self._inputs(x)
        y = torch.ops.onednn.qlinear_pointwise(quantised, 1.0, _OFFSET, self._packed, self.scales,
                                               self._zero_points, None, 1.0, 0, torch.float32, "none", [], "")
        y.mul_(scale)  # each token's own activation scale
        if self.bias is not None:
            y.add_(self.bias)
        return y.reshape(*x.shape[:-1], self.out_features).to(x.dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


class Int8Embedding(torch.nn.Module):
    """A token embedding held as int8 rows with one scale each (a quarter of fp32's memory: 136 MB instead
    of 544 for Qwen's 152k tokens); looked-up rows come back as float32."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = weight.shape
        self.rows, self.scales = quantize_rows(weight)  # the same rows an output layer tied to it packs

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.rows[ids].float() * self.scales[ids].unsqueeze(-1)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, int8"


def quantize_linears(model: torch.nn.Module) -> torch.nn.Module:
    """Every torch.nn.Linear of a transformers `model` replaced in place by its `Int8Linear`, and its token
    embedding by an `Int8Embedding` (what `weights.load_int8` builds from files); returns `model`."""
    inputs = InputQuantizer()
    tied = model.get_input_embeddings().weight
    embedding = Int8Embedding(tied)
    linears = {name: module for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}
    for name, module in linears.items():
        model.set_submodule(name, Int8Linear(embedding.rows, embedding.scales, None, inputs)
                            if module.weight is tied and module.bias is None
                            else Int8Linear.of(module.weight, module.bias, inputs))
    model.set_input_embeddings(embedding)
    return model
