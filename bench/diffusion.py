"""SVD-XT, CogVideoX-5b-I2V and the SDXL memorial portrait (with IP-Adapter Plus Face) as
diffusers builds them ("stock") against the same pipelines after the product's exact speed-ups
("ours": ``optimize_pipeline``, which ``load_pipeline`` applies).

Each model is built at full size from its architecture's config, with random weights, in the
dtype the product runs it in (float16 SVD-XT and SDXL, bfloat16 CogVideoX): the same layers, shapes and
arithmetic as with the real weights, and nothing to download. For each model, in one process: a
warm-up video, then N timed videos stock; then ``optimize_pipeline``, a warm-up video (where
torch.compile compiles; shown apart as "first run") and N timed videos ours. Both make the same
seed's video and the outputs are compared, to show that nothing changed beyond rounding.

    .venv/bin/python bench/diffusion.py [--model svd|cog|all] [--runs 3] [--json]
    .venv/bin/python bench/diffusion.py --steps 2 --runs 1                # a quick look on a GPU
    GENERATION_TORCH_COMPILE=0 .venv/bin/python bench/diffusion.py       # ours without torch.compile
    .venv/bin/python bench/diffusion.py --device cpu --tiny --runs 1      # the script itself, tiny models

Videos: SVD-XT 25 frames at 1024×576, 25 steps, the VAE decoding 8 frames at a time;
CogVideoX-5b-I2V 49 frames at 720×480, 50 steps, guidance 6; the SDXL portrait (SDXL base's
UNet, IP-Adapter Plus Face with its ViT-H/14 image encoder loaded into it as the engine loads it)
4 candidates in one batch at 1024×1024, 8 steps (the plan's turbo checkpoint's), guidance 2.
Seconds are for a whole video or batch of candidates (photo in, frames out), the median of the
runs; "peak GiB" is torch.cuda.max_memory_allocated.

Targets on one H100: SVD-XT ≤ 12 s and CogVideoX-5b-I2V ≤ 45 s per video, ours ≥ 2× stock,
with exact optimisations only, its frames equal to stock's up to rounding in the model's dtype;
the SDXL portrait ≤ 6 s per 4 candidates, ours ≥ 1.5× stock.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHOTO = ROOT / "tests" / "cat.jpg"
SEED = 0


# --- The models, at full size and tiny --------------------------------------------------------

SVD_CONFIGS = {
    "full": {
        "unet": {},  # the class's defaults are SVD-XT's UNet: 1.52 billion parameters
        # SVD's VAE (the class's defaults are a one-block toy).
        "vae": {
            "block_out_channels": (128, 256, 512, 512), "down_block_types": ("DownEncoderBlock2D",) * 4,
            "layers_per_block": 2, "latent_channels": 4, "sample_size": 768,
        },
        # OpenCLIP ViT-H/14's vision tower, SVD's image encoder.
        "image_encoder": {
            "hidden_size": 1280, "intermediate_size": 5120, "num_hidden_layers": 32, "num_attention_heads": 16,
            "patch_size": 14, "image_size": 224, "projection_dim": 1024,
        },
    },
    "tiny": {
        "unet": {
            "block_out_channels": (32, 64), "layers_per_block": 1, "in_channels": 8, "out_channels": 4,
            "down_block_types": ("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
            "up_block_types": ("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
            "cross_attention_dim": 32, "num_attention_heads": 4, "addition_time_embed_dim": 16,
            "projection_class_embeddings_input_dim": 48,
        },
        "vae": {"block_out_channels": (32, 64), "down_block_types": ("DownEncoderBlock2D",) * 2, "latent_channels": 4},
        "image_encoder": {
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "patch_size": 32, "image_size": 224, "projection_dim": 32,
        },
    },
}

COG_CONFIGS = {
    "full": {
        # CogVideoX-5b-I2V's transformer/config.json: 5.57 billion parameters.
        "transformer": {
            "num_attention_heads": 48, "attention_head_dim": 64, "num_layers": 42, "in_channels": 32, "out_channels": 16,
            "text_embed_dim": 4096, "time_embed_dim": 512, "sample_width": 90, "sample_height": 60, "sample_frames": 49,
            "patch_size": 2, "max_text_seq_length": 226,
            "use_rotary_positional_embeddings": True, "use_learned_positional_embeddings": True,
        },
        "vae": {"scaling_factor": 0.7},  # otherwise the class's defaults are CogVideoX's VAE
        # T5 v1.1 XXL's encoder, CogVideoX's text encoder: 4.76 billion parameters.
        "text_encoder": {
            "vocab_size": 32128, "d_model": 4096, "d_ff": 10240, "num_layers": 24, "num_heads": 64, "d_kv": 64,
            "feed_forward_proj": "gated-gelu",
        },
    },
    "tiny": {
        "transformer": {
            "num_attention_heads": 2, "attention_head_dim": 16, "num_layers": 1, "in_channels": 8, "out_channels": 4,
            "text_embed_dim": 32, "time_embed_dim": 4, "sample_width": 8, "sample_height": 8, "sample_frames": 9,
            "patch_size": 2, "max_text_seq_length": 16,
            "use_rotary_positional_embeddings": True, "use_learned_positional_embeddings": True,
        },
        "vae": {
            "down_block_types": ("CogVideoXDownBlock3D",) * 4, "up_block_types": ("CogVideoXUpBlock3D",) * 4,
            "block_out_channels": (8, 8, 8, 8), "latent_channels": 4, "layers_per_block": 1, "norm_num_groups": 2,
        },
        "text_encoder": {
            "vocab_size": 64, "d_model": 32, "d_ff": 48, "num_layers": 2, "num_heads": 4, "d_kv": 8,
            "relative_attention_num_buckets": 8,
        },
    },
}


SDXL_CONFIGS = {
    "full": {
        # SDXL base's unet/config.json: 2.57 billion parameters.
        "unet": {
            "sample_size": 128, "block_out_channels": (320, 640, 1280), "layers_per_block": 2,
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            "transformer_layers_per_block": (1, 2, 10), "attention_head_dim": (5, 10, 20), "use_linear_projection": True,
            "cross_attention_dim": 2048, "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
            "projection_class_embeddings_input_dim": 2816,
        },
        "vae": {
            "block_out_channels": (128, 256, 512, 512), "down_block_types": ("DownEncoderBlock2D",) * 4,
            "up_block_types": ("UpDecoderBlock2D",) * 4, "layers_per_block": 2, "latent_channels": 4, "sample_size": 1024,
            "scaling_factor": 0.13025, "force_upcast": True,
        },
        # CLIP ViT-L/14's and OpenCLIP ViT-bigG/14's text towers.
        "text_encoder": {
            "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
            "projection_dim": 768, "hidden_act": "quick_gelu",
        },
        "text_encoder_2": {
            "hidden_size": 1280, "intermediate_size": 5120, "num_hidden_layers": 32, "num_attention_heads": 20,
            "projection_dim": 1280, "hidden_act": "gelu",
        },
        # OpenCLIP ViT-H/14's vision tower, IP-Adapter's image encoder (h94/IP-Adapter models/image_encoder).
        "image_encoder": {
            "hidden_size": 1280, "intermediate_size": 5120, "num_hidden_layers": 32, "num_attention_heads": 16,
            "patch_size": 14, "image_size": 224, "projection_dim": 1024,
        },
        # ip-adapter-plus-face_sdxl_vit-h: a Resampler of 16 queries, 20 heads of 64, 1280 wide.
        "ip_adapter": {"hidden_dims": 1280, "heads": 20, "num_queries": 16},
    },
    "tiny": {
        "unet": {
            "sample_size": 32, "block_out_channels": (32, 64), "layers_per_block": 1,
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"), "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
            "transformer_layers_per_block": (1, 1), "attention_head_dim": (2, 4), "use_linear_projection": True,
            "cross_attention_dim": 64, "addition_embed_type": "text_time", "addition_time_embed_dim": 8,
            "projection_class_embeddings_input_dim": 80, "norm_num_groups": 1,  # 6 × 8 + text_encoder_2's 32
        },
        "vae": {
            "block_out_channels": (32, 64), "down_block_types": ("DownEncoderBlock2D",) * 2,
            "up_block_types": ("UpDecoderBlock2D",) * 2, "latent_channels": 4, "sample_size": 64, "norm_num_groups": 1,
        },
        "text_encoder": {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4, "projection_dim": 32},
        "text_encoder_2": {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4, "projection_dim": 32},
        "image_encoder": {
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "patch_size": 32, "image_size": 224, "projection_dim": 32,
        },
        "ip_adapter": {"hidden_dims": 32, "heads": 1, "num_queries": 4},
    },
}

def svd_components(size: str) -> dict[str, Callable[[], Any]]:
    from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, UNetSpatioTemporalConditionModel
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    config = SVD_CONFIGS[size]
    return {
        "unet": lambda: UNetSpatioTemporalConditionModel(**config["unet"]),
        "vae": lambda: AutoencoderKLTemporalDecoder(**config["vae"]),
        "image_encoder": lambda: CLIPVisionModelWithProjection(CLIPVisionConfig(**config["image_encoder"])),
        # SVD-XT's scheduler_config.json.
        "scheduler": lambda: EulerDiscreteScheduler(
            prediction_type="v_prediction", interpolation_type="linear", timestep_type="continuous",
            use_karras_sigmas=True, sigma_min=0.002, sigma_max=700.0, steps_offset=1, timestep_spacing="leading",
            beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
        ),
        "feature_extractor": lambda: CLIPImageProcessor(size=224, crop_size=224),
    }


def cog_components(size: str) -> dict[str, Callable[[], Any]]:
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDPMScheduler, CogVideoXTransformer3DModel
    from transformers import T5Config, T5EncoderModel

    config = COG_CONFIGS[size]
    return {
        "tokenizer": lambda: word_tokenizer(config["text_encoder"]["vocab_size"]),
        "text_encoder": lambda: T5EncoderModel(T5Config(**config["text_encoder"])),
        "transformer": lambda: CogVideoXTransformer3DModel(**config["transformer"]),
        "vae": lambda: AutoencoderKLCogVideoX(**config["vae"]),
        # CogVideoX-5b-I2V's scheduler: v-prediction, zero terminal SNR, trailing steps.
        "scheduler": lambda: CogVideoXDPMScheduler(
            clip_sample=False, prediction_type="v_prediction", timestep_spacing="trailing",
            rescale_betas_zero_snr=True, snr_shift_scale=1.0,
        ),
    }


def sdxl_components(size: str) -> dict[str, Callable[[], Any]]:
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, UNet2DConditionModel
    from transformers import (
        CLIPImageProcessor,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    config = SDXL_CONFIGS[size]
    # eos_token_id 2: the pooled output is taken at the highest token id, as CLIP's original config does.
    text = {"vocab_size": 49408 if size == "full" else 512, "max_position_embeddings": 77, "bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2}
    return {
        "tokenizer": clip_word_tokenizer,
        "tokenizer_2": clip_word_tokenizer,
        "text_encoder": lambda: CLIPTextModel(CLIPTextConfig(**text, **config["text_encoder"])),
        "text_encoder_2": lambda: CLIPTextModelWithProjection(CLIPTextConfig(**text, **config["text_encoder_2"])),
        "unet": lambda: UNet2DConditionModel(**config["unet"]),
        "vae": lambda: AutoencoderKL(**config["vae"]),
        "image_encoder": lambda: CLIPVisionModelWithProjection(CLIPVisionConfig(**config["image_encoder"])),
        "feature_extractor": lambda: CLIPImageProcessor(size=224, crop_size=224),
        # SDXL base's scheduler_config.json.
        "scheduler": lambda: EulerDiscreteScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1, timestep_spacing="leading",
        ),
    }


def ip_adapter_plus_state_dict(unet: Any, image_encoder: Any, *, hidden_dims: int, heads: int, num_queries: int) -> dict:
    """Random IP-Adapter Plus weights for ``unet`` and ``image_encoder``, in the layout of the
    released files that ``load_ip_adapter`` reads and converts: ``image_proj`` is the Resampler
    (four blocks of perceiver attention and a feed-forward, 64 per head), ``ip_adapter`` a key and
    a value projection of the image tokens for each cross-attention layer, numbered 1, 3, 5…
    Made on the models' device, in their dtype."""
    import torch
    from diffusers.models.attention_processor import Attention

    torch.manual_seed(SEED)
    device, dtype = unet.device, unet.dtype
    embed_dims, output_dims, inner = image_encoder.config.hidden_size, unet.config.cross_attention_dim, 64 * heads

    def matrix(rows: int, columns: int):
        return torch.randn(rows, columns, device=device, dtype=dtype) * columns**-0.5

    def norm(prefix: str, width: int) -> dict:
        return {f"{prefix}.weight": torch.ones(width, device=device, dtype=dtype), f"{prefix}.bias": torch.zeros(width, device=device, dtype=dtype)}

    image_proj = {
        "latents": torch.randn(1, num_queries, hidden_dims, device=device, dtype=dtype) * hidden_dims**-0.5,
        "proj_in.weight": matrix(hidden_dims, embed_dims), "proj_in.bias": torch.zeros(hidden_dims, device=device, dtype=dtype),
        "proj_out.weight": matrix(output_dims, hidden_dims), "proj_out.bias": torch.zeros(output_dims, device=device, dtype=dtype),
        **norm("norm_out", output_dims),
    }
    for block in range(4):
        image_proj |= {
            **norm(f"layers.{block}.0.norm1", hidden_dims), **norm(f"layers.{block}.0.norm2", hidden_dims),
            f"layers.{block}.0.to_q.weight": matrix(inner, hidden_dims),
            f"layers.{block}.0.to_kv.weight": matrix(2 * inner, hidden_dims),
            f"layers.{block}.0.to_out.weight": matrix(hidden_dims, inner),
            **norm(f"layers.{block}.1.0", hidden_dims),
            f"layers.{block}.1.1.weight": matrix(4 * hidden_dims, hidden_dims),
            f"layers.{block}.1.3.weight": matrix(hidden_dims, 4 * hidden_dims),
        }
    cross = [layer for layer in unet.modules() if isinstance(layer, Attention) and layer.is_cross_attention]
    ip_adapter = {}
    for number, layer in enumerate(cross):
        width = layer.query_dim  # the block's channels, which the adapter's projections map the image tokens to
        ip_adapter |= {f"{2 * number + 1}.to_k_ip.weight": matrix(width, output_dims), f"{2 * number + 1}.to_v_ip.weight": matrix(width, output_dims)}
    return {"image_proj": image_proj, "ip_adapter": ip_adapter}


def clip_word_tokenizer() -> Any:
    """A CLIP-like tokenizer built here, with no files: one token per word of the portrait's
    prompts, padded to CLIP's 77 tokens as the real one pads, so the text encoders do the same
    work."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from generation.engines import portrait_sdxl

    text = " ".join([portrait_sdxl.COMPOSITION, portrait_sdxl.NEGATIVE_PROMPT, *portrait_sdxl.ATTIRE_PROMPTS.values(),
                     *portrait_sdxl.BACKDROP_PROMPTS.values(), *portrait_sdxl.ATTIRE_NEGATIVES.values(), *portrait_sdxl.BACKDROP_NEGATIVES.values()])
    words = sorted(set(text.lower().replace(",", " ").split()))
    vocab = {"<|startoftext|>": 0, "<|pad|>": 1, "<|endoftext|>": 2, "<|unk|>": 3} | {word: index for index, word in enumerate(words, start=4)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<|unk|>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<|startoftext|>", eos_token="<|endoftext|>", pad_token="<|pad|>", unk_token="<|unk|>",
        model_max_length=77,
    )


def word_tokenizer(vocab_size: int) -> Any:
    """A tokenizer built here, with no files: one token per word of the product's prompt. T5's
    real one gives other ids, but the text encoder sees as many tokens either way (the prompt is
    padded to the transformer's text length), so the same work."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from generation.engines.cogvideox_i2v import DEFAULT_PROMPT

    words = sorted(set(DEFAULT_PROMPT.lower().replace(",", " ").replace(".", " ").split()))
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2} | {word: index for index, word in enumerate(words, start=3)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


@dataclass(frozen=True)
class Video:
    frames: int
    width: int
    height: int
    steps: int


@dataclass(frozen=True)
class Model:
    key: str
    title: str
    dtype: str  # on CUDA, as the engine loads it
    pipeline_class: str
    components: Callable[[str], dict[str, Callable[[], Any]]]
    full: Video
    tiny: Video
    target_s: float
    # Renders one video: (pipeline, photo, video, generator, step callback) -> frames.
    render: Callable[..., Any]
    target_speedup: float = 2.0
    unit: str = "frames"  # what ``Video.frames`` counts: an image model makes a batch of images
    # Done to the built pipeline before timing, as the engine's loader does: (pipeline, size).
    prepare: Callable[[Any, str], None] = lambda pipeline, size: None


def render_svd(pipeline, photo, video: Video, generator, on_step_end):
    from generation.engines.svd_xt import SvdSettings

    knobs = SvdSettings()  # the engine's defaults: fps, motion, noise, decode chunk
    return pipeline(
        photo, width=video.width, height=video.height, num_frames=video.frames, num_inference_steps=video.steps,
        fps=knobs.fps, motion_bucket_id=knobs.motion, noise_aug_strength=knobs.noise_aug_strength,
        decode_chunk_size=knobs.decode_chunk_size, generator=generator, output_type="np", callback_on_step_end=on_step_end,
    ).frames[0]


def render_cog(pipeline, photo, video: Video, generator, on_step_end):
    from generation.engines.cogvideox_i2v import CogSettings

    knobs = CogSettings()
    return pipeline(
        image=photo, prompt=knobs.prompt, width=video.width, height=video.height, num_frames=video.frames,
        num_inference_steps=video.steps, guidance_scale=knobs.guidance, use_dynamic_cfg=True, generator=generator,
        output_type="np", callback_on_step_end=on_step_end,
        max_sequence_length=pipeline.transformer.config.max_text_seq_length,
    ).frames[0]


def render_sdxl(pipeline, photo, video: Video, generator, on_step_end):
    """The engine's default job: its candidates in one batch, each on its backdrop, with the
    face reference through IP-Adapter."""
    from generation.engines.portrait_sdxl import PortraitSdxlSettings, prompts
    from generation.engines.torch_runtime import seeded_generator

    knobs = PortraitSdxlSettings(count=video.frames)
    candidates = [prompts(backdrop, knobs.attire) for backdrop in knobs.backdrops]
    return pipeline(
        prompt=[prompt for prompt, _negative in candidates], negative_prompt=[negative for _prompt, negative in candidates],
        ip_adapter_image=photo, width=video.width, height=video.height, num_inference_steps=video.steps,
        guidance_scale=knobs.guidance, output_type="np", callback_on_step_end=on_step_end,
        # The engine's seeds: the first candidate's, then one more for each of the others.
        generator=[generator, *(seeded_generator(SEED + number) for number in range(1, video.frames))],
    ).images


def prepare_sdxl(pipeline, size: str) -> None:
    """IP-Adapter Plus Face loaded into the UNet from random weights in its released layout."""
    from generation.engines.portrait_sdxl import PortraitSdxlSettings

    adapter = ip_adapter_plus_state_dict(pipeline.unet, pipeline.image_encoder, **SDXL_CONFIGS[size]["ip_adapter"])
    pipeline.load_ip_adapter(adapter, subfolder="", weight_name="")
    pipeline.set_ip_adapter_scale(PortraitSdxlSettings.face_strength)


MODELS = {
    "svd": Model(
        "svd", "SVD-XT", "float16", "StableVideoDiffusionPipeline", svd_components,
        full=Video(25, 1024, 576, 25), tiny=Video(4, 64, 64, 2), target_s=12, render=render_svd,
    ),
    "cog": Model(
        "cog", "CogVideoX-5b-I2V", "bfloat16", "CogVideoXImageToVideoPipeline", cog_components,
        full=Video(49, 720, 480, 50), tiny=Video(9, 64, 64, 2), target_s=45, render=render_cog,
    ),
    # 4 candidates at 1024², 8 steps: the plan's turbo checkpoint's; SDXL base's UNet.
    "sdxl": Model(
        "sdxl", "SDXL portrait + IP-Adapter Plus Face", "float16", "StableDiffusionXLPipeline", sdxl_components,
        full=Video(4, 1024, 1024, 8), tiny=Video(2, 64, 64, 2), target_s=6, render=render_sdxl, target_speedup=1.5, unit="images",
        prepare=prepare_sdxl,
    ),
}


# --- Building and timing ----------------------------------------------------------------------

def build(model: Model, size: str, device: str, dtype: Any) -> Any:
    """The pipeline as diffusers builds it from its components, on ``device`` in ``dtype``, in
    inference mode as from_pretrained leaves it. Each model is made on the device (its default
    initialisation is random weights, quick there) and cast before the next is made."""
    import diffusers
    import torch

    components = {}
    for name, make in model.components(size).items():
        torch.manual_seed(SEED)
        with torch.device(device):
            component = make()
        if isinstance(component, torch.nn.Module):
            # All of each model in ``dtype``, as from_pretrained loads these (T5 keeps a few layers
            # in float32 only when loaded in float16, and CogVideoX runs in bfloat16).
            component = component.to(dtype=dtype).eval()
        components[name] = component
    pipeline = getattr(diffusers, model.pipeline_class)(**components)
    pipeline.set_progress_bar_config(disable=True)
    model.prepare(pipeline, size)
    return pipeline


@dataclass
class Run:
    seconds: float
    peak_bytes: int | None
    frames: Any
    first_step: Any  # the latents after the first step, on the CPU in float32


def run_once(model: Model, pipeline: Any, photo: Any, video: Video, device: str) -> Run:
    import torch

    from generation.engines.torch_runtime import seeded_generator

    first_step = []

    def on_step_end(pipeline, step, timestep, callback_kwargs):
        if step == 0:
            first_step.append(callback_kwargs["latents"].float().cpu())
        return callback_kwargs

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    frames = model.render(pipeline, photo, video, seeded_generator(SEED), on_step_end)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else None
    return Run(seconds, peak, frames, first_step[0])


def timings(model: Model, pipeline: Any, photo: Any, video: Video, device: str, runs: int) -> tuple[Run, list[Run]]:
    """The warm-up run, then ``runs`` timed ones."""
    first = run_once(model, pipeline, photo, video, device)
    return first, [run_once(model, pipeline, photo, video, device) for _ in range(runs)]


def summary(first: Run, timed: list[Run]) -> dict:
    peaks = [run.peak_bytes for run in timed if run.peak_bytes is not None]
    return {
        "median_s": round(statistics.median(run.seconds for run in timed), 3),
        "runs_s": [round(run.seconds, 3) for run in timed],
        "first_run_s": round(first.seconds, 3),
        "peak_gib": round(max(peaks) / 2**30, 2) if peaks else None,
    }


def bench(model: Model, args: argparse.Namespace) -> dict:
    import numpy as np
    import torch
    from PIL import Image

    from generation.engines.torch_runtime import denoiser, optimize_pipeline

    base = model.tiny if args.tiny else model.full
    video = Video(args.frames or base.frames, base.width, base.height, args.steps or base.steps)
    dtype = getattr(torch, model.dtype) if args.device == "cuda" else torch.float32  # as device_and_dtype()
    photo = Image.open(PHOTO).convert("RGB").resize((video.width, video.height), Image.Resampling.LANCZOS)

    pipeline = build(model, "tiny" if args.tiny else "full", args.device, dtype)
    parameters = sum(parameter.numel() for parameter in denoiser(pipeline).parameters())
    if args.device == "cuda":
        torch.cuda.empty_cache()  # what building left cached, so that the runs start alike
    stock_first, stock_runs = timings(model, pipeline, photo, video, args.device, args.runs)
    optimize_pipeline(pipeline)
    ours_first, ours_runs = timings(model, pipeline, photo, video, args.device, args.runs)

    stock, ours = summary(stock_first, stock_runs), summary(ours_first, ours_runs)
    difference = np.abs(ours_first.frames.astype(np.float64) - stock_first.frames.astype(np.float64))
    latents = stock_first.first_step.abs().max().item()
    figures = {
        "title": model.title,
        "video": vars(video),
        "dtype": str(dtype).removeprefix("torch."),
        "denoiser_parameters": parameters,
        "stock": stock,
        "ours": ours,
        "speedup": round(stock["median_s"] / ours["median_s"], 3),
        # Frames are floats in [0, 1].
        "max_abs_diff": float(difference.max()),
        "mean_abs_diff": float(difference.mean()),
        "stock_rerun_max_abs_diff": float(np.abs(stock_runs[-1].frames - stock_first.frames).max()),
        # One step of the denoiser, before rounding differences can grow over the next steps.
        "first_step_relative_diff": (ours_first.first_step - stock_first.first_step).abs().max().item() / max(latents, 1e-12),
        "dtype_eps": torch.finfo(dtype).eps,
        "target_s": None if args.tiny else model.target_s,
        "target_speedup": model.target_speedup,
        "unit": model.unit,
    }
    del pipeline
    if args.device == "cuda":
        torch._dynamo.reset()
        torch.cuda.empty_cache()
    return figures


# --- Report -----------------------------------------------------------------------------------

def machine(device: str) -> str:
    import diffusers
    import torch

    where = torch.cuda.get_device_name() if device == "cuda" else f"CPU ({os.cpu_count()} cores, {platform.machine()})"
    return f"{where} · torch {torch.__version__} · diffusers {diffusers.__version__} · Python {platform.python_version()}"


def print_table(figures: dict, runs: int, tiny: bool) -> None:
    video = figures["video"]
    print()
    print(
        f"{figures['title']}{' (tiny)' if tiny else ''}, random weights, {figures['dtype']}, denoiser of "
        f"{figures['denoiser_parameters']:,} parameters — {video['frames']} {figures['unit']} at "
        f"{video['width']}×{video['height']}, {video['steps']} steps — median of {runs}"
    )
    print(f"{'':28} {'seconds':>9} {'speed-up':>9} {'peak GiB':>9} {'first run s':>12}  target")
    target = "" if tiny else f"≤ {figures['target_s']:g} s, ≥ {figures['target_speedup']:g}×"
    for name, row, speedup, goal in (
        ("stock diffusers", figures["stock"], 1.0, ""),
        ("ours (optimize_pipeline)", figures["ours"], figures["speedup"], target),
    ):
        peak = f"{row['peak_gib']:9.2f}" if row["peak_gib"] is not None else f"{'—':>9}"
        print(f"{name:28} {row['median_s']:9.3f} {speedup:9.2f} {peak} {row['first_run_s']:12.3f}  {goal}")
    print(
        f"ours vs stock, same seed: frames max |Δ| {figures['max_abs_diff']:.2e} (mean {figures['mean_abs_diff']:.2e}; "
        f"stock vs itself {figures['stock_rerun_max_abs_diff']:.2e}); latents after one step max |Δ| / max |x| "
        f"{figures['first_step_relative_diff']:.2e} ({figures['dtype']} epsilon {figures['dtype_eps']:.2e})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("svd", "cog", "sdxl", "all"), default="all")
    parser.add_argument("--runs", type=int, default=3, help="timed videos per variant, after one warm-up")
    parser.add_argument("--steps", type=int, help="denoising steps instead of the model's (for a quick run)")
    parser.add_argument("--frames", type=int, help="frames instead of the model's (CogVideoX: 8k + 1)")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny random models instead of the full-size ones")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    if args.device == "cpu" and not args.tiny:
        raise SystemExit("bench/diffusion.py: the full-size models would take hours on the CPU; add --tiny for a smoke run.")
    if args.runs < 1:
        raise SystemExit("bench/diffusion.py: --runs must be at least 1.")
    keys = tuple(MODELS) if args.model == "all" else (args.model,)
    if "cog" in keys and args.frames and (args.frames - 1) % 8:
        raise SystemExit(f"bench/diffusion.py: CogVideoX makes 8k + 1 frames (9, 17, 25, 33, 41, 49), not {args.frames}.")

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench/diffusion.py: --device cuda was asked, but torch sees no CUDA GPU on this machine "
                         "(use --device cpu --tiny for a smoke run).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "petmemories.settings.local")
    import django

    django.setup()
    import diffusers
    from django.conf import settings

    # Quiet: diffusers warns that casting a model with .to() skips keeping some of its layers in
    # float32 (none, for these models), and that the tiny models truncate the prompt.
    diffusers.utils.logging.set_verbosity_error()

    figures = {
        "machine": machine(args.device),
        "device": args.device,
        "tiny": args.tiny,
        "runs": args.runs,
        "torch_compile": args.device == "cuda" and settings.GENERATION_TORCH_COMPILE,
        "models": {},
    }
    print(f"{figures['machine']} · torch.compile in ours: {'yes' if figures['torch_compile'] else 'no'}")
    for key in keys:
        figures["models"][key] = bench(MODELS[key], args)
        print_table(figures["models"][key], args.runs, args.tiny)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
