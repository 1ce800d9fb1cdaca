"""DDColor (Kang et al., ICCV 2023): a learned colorizer, in plain torch.

This module imports torch at the top: only the worker side imports it, and only when it first
colorizes (``generation.engines.colorize`` imports it lazily).

The network takes a grey photo as RGB in [0, 1] at a square input size (512 for the published
models) and predicts the CIE L*a*b* chroma (a*, b*, in L*a*b* units) at that size:

1. **Encoder**: a ConvNeXt (L for the paper models, T for the tiny one); the layer-normed
   output of each of its four stages is kept (at 1/4, 1/8, 1/16 and 1/32 of the input).
2. **Pixel decoder**: three upsampling blocks (pixel shuffle ×2, joined with the encoder's
   feature of that scale) from 1/32 back to 1/4, then a pixel shuffle ×4 to full size.
3. **Colour decoder**: learned colour queries attend in turn to the three decoder scales
   (cross-attention, self-attention, feed-forward, nine layers); each query's embedding, dotted
   with the full-size pixel features, gives one map per query.
4. **Fusion**: a 1×1 convolution of those maps and the input to the two chroma channels.

Module and parameter names follow the published code (github.com/piddnad/DDColor, Apache-2.0),
so the published checkpoints load with ``strict=True``; this is a fresh implementation of that
architecture for inference only (no training code, no timm or basicsr). The convolutions that
were trained with spectral normalisation keep its three tensors (``weight_orig``, ``weight_u``,
``weight_v``) and divide by the stored estimate of the largest singular value, as torch's
``spectral_norm`` does in evaluation mode.

Its weights folder is read and written by ``generation.engines.colorize`` (``load``, ``save``).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

ENCODERS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    # name: (blocks per stage, channels per stage)
    "convnext-t": ((3, 3, 9, 3), (96, 192, 384, 768)),
    "convnext-l": ((3, 3, 27, 3), (192, 384, 768, 1536)),
}
INFERENCE_SIZE = 512
# ImageNet's mean and spread, by which the encoder's input is normalised.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class DDColorConfig:
    """The keys of ``config.json``, as the published code's constructor names them, with its
    defaults (but ``input_size``). The last five are ours, for small models in tests: the published models leave
    them unset and get the published architecture."""

    encoder_name: str = "convnext-l"
    decoder_name: str = "MultiScaleColorDecoder"
    num_input_channels: int = 3
    # The published constructor's default, (256, 256), only sized a trial pass; DDColor's own
    # inference colorizes at 512 whatever the config says, and so do we unless it is set.
    input_size: tuple[int, int] | None = None
    nf: int = 512
    num_output_channels: int = 3
    last_norm: str = "Weight"
    do_normalize: bool = False
    num_queries: int = 256
    num_scales: int = 3
    dec_layers: int = 9
    encoder_depths: tuple[int, ...] | None = None
    encoder_dims: tuple[int, ...] | None = None
    hidden_dim: int = 256
    nheads: int = 8
    dim_feedforward: int = 2048

    def __post_init__(self):
        if self.encoder_name not in ENCODERS:
            raise ValueError(f"DDColor: unknown encoder {self.encoder_name!r}; expected one of {', '.join(ENCODERS)}")
        if self.decoder_name != "MultiScaleColorDecoder":
            raise ValueError(f"DDColor: only the MultiScaleColorDecoder is supported, not {self.decoder_name!r}")
        if self.last_norm not in ("Spectral", "Weight"):
            raise ValueError(f"DDColor: last_norm must be Spectral or Weight, not {self.last_norm!r}")
        if self.num_input_channels != 3:
            raise ValueError("DDColor: the input is a grey photo as RGB, 3 channels")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DDColorConfig:
        """From ``config.json``: known keys only (the hub may add its own), lists as tuples."""
        known = {field.name for field in dataclasses.fields(cls)}
        kept = {key: tuple(value) if isinstance(value, list) else value for key, value in values.items() if key in known}
        return cls(**kept)

    def as_dict(self) -> dict[str, Any]:
        """For ``config.json``: our own keys only when set, so a published-size config reads as
        the published ones do."""
        values = {key: list(value) if isinstance(value, tuple) else value for key, value in dataclasses.asdict(self).items()}
        for key in ("input_size", "encoder_depths", "encoder_dims"):
            if values[key] is None:
                del values[key]
        return values

    @property
    def depths(self) -> tuple[int, ...]:
        return self.encoder_depths or ENCODERS[self.encoder_name][0]

    @property
    def dims(self) -> tuple[int, ...]:
        return self.encoder_dims or ENCODERS[self.encoder_name][1]

    @property
    def size(self) -> int:
        """The square side the model colorizes at."""
        return int(self.input_size[0]) if self.input_size else INFERENCE_SIZE


# --- Layers ---------------------------------------------------------------------------------

class LayerNorm2d(nn.Module):
    """Layer normalisation over the channels of an (N, C, H, W) tensor, or of the last axis
    (``channels_last``), with ConvNeXt's ``weight`` and ``bias``."""

    def __init__(self, channels: int, *, channels_last: bool = False, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.channels_last = channels_last
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)
        mean = x.mean(1, keepdim=True)
        variance = (x - mean).pow(2).mean(1, keepdim=True)
        return (x - mean) / torch.sqrt(variance + self.eps) * self.weight[:, None, None] + self.bias[:, None, None]


class SpectralConv2d(nn.Module):
    """A convolution whose weight is ``weight_orig`` divided by its largest singular value,
    estimated as ``u · W v`` from the stored vectors (torch's spectral_norm, evaluation mode)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, bias: bool):
        super().__init__()
        self.padding = (kernel_size - 1) // 2
        self.weight_orig = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_normal_(self.weight_orig)
        # A fresh layer's u and v are its weight's singular vectors (power iteration), so a
        # random-weight model (tests, benchmarks) divides by a sensible estimate.
        matrix = self.weight_orig.detach().reshape(out_channels, -1)
        u = F.normalize(torch.randn(out_channels), dim=0)
        for _ in range(20):
            v = F.normalize(matrix.t() @ u, dim=0)
            u = F.normalize(matrix @ v, dim=0)
        self.register_buffer("weight_u", u)
        self.register_buffer("weight_v", v)

    def weight(self) -> torch.Tensor:
        sigma = torch.dot(self.weight_u, self.weight_orig.reshape(self.weight_orig.shape[0], -1) @ self.weight_v)
        return self.weight_orig / sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight(), self.bias, padding=self.padding)


class WeightNormConv2d(nn.Module):
    """A convolution whose weight is ``weight_g · weight_v / ‖weight_v‖`` per output channel
    (torch's weight_norm), for a config whose ``last_norm`` is "Weight"."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, bias: bool):
        super().__init__()
        self.padding = (kernel_size - 1) // 2
        self.weight_v = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        nn.init.kaiming_normal_(self.weight_v)
        self.weight_g = nn.Parameter(self.weight_v.detach().flatten(1).norm(dim=1).reshape(-1, 1, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = self.weight_v.flatten(1).norm(dim=1).reshape(-1, 1, 1, 1)
        return F.conv2d(x, self.weight_g * self.weight_v / norm, self.bias, padding=self.padding)


def normed_conv(in_channels: int, out_channels: int, kernel_size: int, *, bias: bool, norm: str = "Spectral") -> nn.Module:
    conv = SpectralConv2d if norm == "Spectral" else WeightNormConv2d
    return conv(in_channels, out_channels, kernel_size, bias=bias)


# --- Encoder: ConvNeXt ----------------------------------------------------------------------

class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = LayerNorm2d(dim, channels_last=True)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.gamma * self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + y.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    """The four stages and their downsampling; ``norm0``–``norm3`` normalise the feature each
    stage hands the decoder. ``norm`` (the classifier's final norm) is kept for the
    checkpoints' sake; colorizing does not use it."""

    def __init__(self, depths: tuple[int, ...], dims: tuple[int, ...]):
        super().__init__()
        self.downsample_layers = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(3, dims[0], kernel_size=4, stride=4), LayerNorm2d(dims[0]))]
            + [nn.Sequential(LayerNorm2d(dims[i]), nn.Conv2d(dims[i], dims[i + 1], kernel_size=2, stride=2)) for i in range(3)]
        )
        self.stages = nn.ModuleList(nn.Sequential(*(ConvNeXtBlock(dims[i]) for _ in range(depths[i]))) for i in range(4))
        for i in range(4):
            self.add_module(f"norm{i}", LayerNorm2d(dims[i]))
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for i in range(4):
            x = self.stages[i](self.downsample_layers[i](x))
            features.append(getattr(self, f"norm{i}")(x))
        return features


class ImageEncoder(nn.Module):
    def __init__(self, config: DDColorConfig):
        super().__init__()
        self.arch = ConvNeXt(config.depths, config.dims)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.arch(x)


# --- Pixel decoder --------------------------------------------------------------------------

class PixelShuffleUp(nn.Module):
    """×``scale`` upsampling: a 1×1 convolution to ``scale``² times the channels, ReLU, pixel
    shuffle, then a 2×2 average over a replicated edge (against checkerboard artefacts)."""

    def __init__(self, in_channels: int, out_channels: int, *, scale: int, norm: str, batch_norm: bool):
        super().__init__()
        layers = [normed_conv(in_channels, out_channels * scale**2, 1, bias=not batch_norm, norm=norm)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels * scale**2))
        self.conv = nn.Sequential(*layers)
        self.shuf = nn.PixelShuffle(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.shuf(F.relu(self.conv(x)))
        return F.avg_pool2d(F.pad(x, (1, 0, 1, 0), mode="replicate"), 2, stride=1)


class UpBlock(nn.Module):
    """×2 up from the coarser decoder feature, joined with the encoder's feature of that scale."""

    def __init__(self, up_channels: int, skip_channels: int, out_channels: int):
        super().__init__()
        self.shuf = PixelShuffleUp(up_channels, out_channels, scale=2, norm="Spectral", batch_norm=True)
        self.bn = nn.BatchNorm2d(skip_channels)
        self.conv = nn.Sequential(
            SpectralConv2d(out_channels + skip_channels, out_channels, 3, bias=False), nn.ReLU(), nn.BatchNorm2d(out_channels)
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(F.relu(torch.cat([self.shuf(x), self.bn(skip)], dim=1)))


# --- Colour decoder -------------------------------------------------------------------------

def position_embedding(feature: torch.Tensor, channels: int) -> torch.Tensor:
    """DETR's normalised sine embedding of each pixel's (y, x), ``channels`` in all, as
    (H·W, 1, channels)."""
    height, width = feature.shape[-2:]
    half = channels // 2
    y = torch.arange(1, height + 1, dtype=torch.float32, device=feature.device) / (height + 1e-6) * 2 * math.pi
    x = torch.arange(1, width + 1, dtype=torch.float32, device=feature.device) / (width + 1e-6) * 2 * math.pi
    frequencies = 10000 ** (2 * (torch.arange(half, device=feature.device) // 2) / half)

    def embed(values: torch.Tensor) -> torch.Tensor:
        angles = values[:, None] / frequencies
        return torch.stack((angles[:, 0::2].sin(), angles[:, 1::2].cos()), dim=2).flatten(1)

    pos_y = embed(y)[:, None, :].expand(height, width, half)
    pos_x = embed(x)[None, :, :].expand(height, width, half)
    return torch.cat((pos_y, pos_x), dim=2).reshape(height * width, 1, channels).to(feature.dtype)


class CrossAttentionLayer(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.multihead_attn = nn.MultiheadAttention(dim, heads)
        self.norm = nn.LayerNorm(dim)

    def forward(self, queries, memory, pos, query_pos):
        attended = self.multihead_attn(queries + query_pos, memory + pos, memory, need_weights=False)[0]
        return self.norm(queries + attended)


class SelfAttentionLayer(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads)
        self.norm = nn.LayerNorm(dim)

    def forward(self, queries, query_pos):
        keys = queries + query_pos
        return self.norm(queries + self.self_attn(keys, keys, queries, need_weights=False)[0])


class FFNLayer(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.linear1 = nn.Linear(dim, hidden)
        self.linear2 = nn.Linear(hidden, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        return self.norm(x + self.linear2(F.relu(self.linear1(x))))


class MLP(nn.Module):
    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int):
        super().__init__()
        sizes = [in_dim] + [hidden] * (layers - 1) + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


class MultiScaleColorDecoder(nn.Module):
    """Colour queries refined against the pixel decoder's scales in turn (coarse to fine)."""

    def __init__(self, in_channels: list[int], config: DDColorConfig, color_dim: int):
        super().__init__()
        dim = config.hidden_dim
        self.hidden_dim = dim
        self.num_layers = config.dec_layers
        self.num_scales = config.num_scales
        self.query_feat = nn.Embedding(config.num_queries, dim)
        self.query_embed = nn.Embedding(config.num_queries, dim)
        self.level_embed = nn.Embedding(config.num_scales, dim)
        self.input_proj = nn.ModuleList(nn.Conv2d(channels, dim, kernel_size=1) for channels in in_channels)
        self.transformer_self_attention_layers = nn.ModuleList(SelfAttentionLayer(dim, config.nheads) for _ in range(config.dec_layers))
        self.transformer_cross_attention_layers = nn.ModuleList(CrossAttentionLayer(dim, config.nheads) for _ in range(config.dec_layers))
        self.transformer_ffn_layers = nn.ModuleList(FFNLayer(dim, config.dim_feedforward) for _ in range(config.dec_layers))
        self.decoder_norm = nn.LayerNorm(dim)
        self.color_embed = MLP(dim, dim, color_dim, 3)
        for layers in (self.transformer_self_attention_layers, self.transformer_cross_attention_layers, self.transformer_ffn_layers):
            for parameter in layers.parameters():
                if parameter.dim() > 1:
                    nn.init.xavier_uniform_(parameter)

    def forward(self, scales: list[torch.Tensor], pixels: torch.Tensor) -> torch.Tensor:
        batch = pixels.shape[0]
        memories, positions = [], []
        for i, feature in enumerate(scales):
            projected = self.input_proj[i](feature).flatten(2) + self.level_embed.weight[i][None, :, None]
            memories.append(projected.permute(2, 0, 1))  # (H·W, N, C)
            positions.append(position_embedding(feature, self.hidden_dim).expand(-1, batch, -1))
        query_pos = self.query_embed.weight[:, None, :].expand(-1, batch, -1)
        queries = self.query_feat.weight[:, None, :].expand(-1, batch, -1)
        for i in range(self.num_layers):
            level = i % self.num_scales
            queries = self.transformer_cross_attention_layers[i](queries, memories[level], positions[level], query_pos)
            queries = self.transformer_self_attention_layers[i](queries, query_pos)
            queries = self.transformer_ffn_layers[i](queries)
        colors = self.color_embed(self.decoder_norm(queries).transpose(0, 1))  # (N, Q, C)
        return torch.einsum("bqc,bchw->bqhw", colors, pixels)


class DuelDecoder(nn.Module):
    """The pixel decoder (``layers``, ``last_shuf``) and the colour decoder; "Duel" as the
    published code spells it, so the checkpoints' names match."""

    def __init__(self, config: DDColorConfig):
        super().__init__()
        dims, nf = config.dims, config.nf
        outs = (nf, nf, nf // 2)
        self.layers = nn.Sequential(
            UpBlock(dims[3], dims[2], outs[0]), UpBlock(outs[0], dims[1], outs[1]), UpBlock(outs[1], dims[0], outs[2])
        )
        self.last_shuf = PixelShuffleUp(nf // 2, nf // 2, scale=4, norm=config.last_norm, batch_norm=False)
        self.color_decoder = MultiScaleColorDecoder(list(outs), config, color_dim=nf // 2)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = features[3]
        scales = []
        for block, skip in zip(self.layers, (features[2], features[1], features[0]), strict=True):
            x = block(x, skip)
            scales.append(x)
        return self.color_decoder(scales, self.last_shuf(x))


class DDColor(nn.Module):
    def __init__(self, config: DDColorConfig):
        super().__init__()
        self.config = config
        self.encoder = ImageEncoder(config)
        self.decoder = DuelDecoder(config)
        self.refine_net = nn.Sequential(
            nn.Sequential(SpectralConv2d(config.num_queries + 3, config.num_output_channels, 1, bias=True))
        )
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, grey_rgb: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) grey RGB in [0, 1] → (N, 2, S, S) a*b* (the first two outputs)."""
        x = (grey_rgb - self.mean) / self.std
        maps = self.decoder(self.encoder(x))
        out = self.refine_net(torch.cat([maps, x], dim=1))
        if self.config.do_normalize:
            out = out * self.std + self.mean
        return out
