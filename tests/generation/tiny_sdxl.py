"""A tiny random-weight SDXL checkpoint with IP-Adapter Plus Face and its image encoder (and, when
asked, a pose ControlNet), saved in the folder layout the SDXL engines read (generation.engines.sdxl),
for tests that load them through the product's own loader on the CPU.

The pipeline (UNet with SDXL's text-and-time embeddings, VAE, two CLIP text encoders, the second
with a projection, tokenizers built in code), the adapter's weights in the layout of the released
file, and the CLIP image encoder are built from small configs (those of bench/diffusion.py)."""
import torch

from bench.diffusion import SDXL_CONFIGS, ip_adapter_plus_state_dict, sdxl_components
from generation.engines import sdxl, torch_runtime


def save_tiny_sdxl(folder, *, controlnet: str = "") -> None:
    """The tiny checkpoint, adapter and image encoder saved in ``folder``; with ``controlnet`` (a
    subfolder's name), a tiny ControlNet of the UNet's shape there too."""
    from diffusers import ControlNetModel, StableDiffusionXLPipeline
    from safetensors.torch import save_file

    components = {}
    for name, make in sdxl_components("tiny").items():
        torch.manual_seed(0)
        components[name] = make()
    image_encoder = components.pop("image_encoder")
    components.pop("feature_extractor")  # load_ip_adapter makes one for the image encoder
    StableDiffusionXLPipeline(**components).save_pretrained(folder)
    adapter = ip_adapter_plus_state_dict(components["unet"], image_encoder, **SDXL_CONFIGS["tiny"]["ip_adapter"])
    weights = folder / sdxl.IP_ADAPTER_FOLDER / sdxl.IP_ADAPTER_SUBFOLDER / sdxl.IP_ADAPTER_WEIGHTS
    weights.parent.mkdir(parents=True)
    save_file({f"{part}.{key}": value.contiguous() for part, values in adapter.items() for key, value in values.items()}, weights)
    image_encoder.save_pretrained(folder / sdxl.IP_ADAPTER_FOLDER / sdxl.IMAGE_ENCODER_FOLDER)
    if controlnet:
        torch.manual_seed(1)
        # The conditioning image is brought down to the latents' size: half, with the tiny VAE.
        pose = ControlNetModel.from_unet(components["unet"], conditioning_embedding_out_channels=(16, 32))
        # A ControlNet starts from zero convolutions, adding nothing until it is trained: random
        # ones, so that the tiny ControlNet steers the pictures as a trained one does.
        with torch.no_grad():
            for parameter in pose.parameters():
                if not parameter.any():
                    parameter.normal_(std=0.1)
        pose.save_pretrained(folder / controlnet)


def loads_counted(monkeypatch, pipeline_class) -> list[dict]:
    """The options of every ``pipeline_class.from_pretrained`` call from now on, in order."""
    loads = []
    original = pipeline_class.from_pretrained.__func__

    def counting(cls, *args, **kwargs):
        loads.append(kwargs)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(pipeline_class, "from_pretrained", classmethod(counting))
    return loads


def models_in_use(settings, folder):
    """The engines pointed at the weights in ``folder``, allowed on the CPU, with no pipeline
    kept from an earlier test."""
    settings.GENERATION_MODELS_DIR = folder
    settings.GENERATION_ALLOW_CPU = True
    torch_runtime._PIPELINES.clear()
    return folder
