"""Plain-PyTorch mirrors of tutor's transformer models (models/vit.h, models/mixer.h): the same
module names (timm's state-dict keys), the same forward math and the same configurations, without
timm (Debian's python3-torch 1.13 only). Imported by tools/golden/make_transformer_fixtures.py and
by the PyTorch side of the benchmarks.

    import transformer_models as tm
    model = tm.vit_small28()            # or tm.create('vit_small28', num_classes=10)
    logits = model(x)                   # taps: model(x, taps={}) fills the dict

Sources: timm's VisionTransformer / VisionTransformerDistilled / MlpMixer and deit's
DistilledVisionTransformer, as restated in shared/spec/models-and-transformer-kd.md §A3-§A5;
the benchmark models as shared/spec/benchmarks.md "Models" defines them.

Differences from timm, on purpose: attention is the explicit softmax(q k^T / sqrt(d)) v (torch
1.13 has no scaled_dot_product_attention); dropout and drop path are left out (rate 0: the
benchmarks and the fixtures use none); the DeiT-distilled model returns the class head's logits
in training (the first of deit's pair) and puts both heads' logits in the taps.

init='timm' is timm's default ('' mode for the ViT: every Linear trunc-normal std 0.02, bias 0,
the patch conv keeps PyTorch's default; the Mixer's: Linears xavier-uniform, mlp biases normal std
1e-6, head zero, patch conv LeCun-normal). init='pytorch' keeps every layer's PyTorch default
(benchmarks.md: "Default PyTorch init"). Both give pos_embed and dist_token trunc-normal std 0.02
and cls_token normal std 1e-6, as timm.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        self.img_size, self.patch_size = img_size, patch_size
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias=True):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, dim // num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, weights_out=None):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = ((q * self.head_dim ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        if weights_out is not None:
            weights_out.append(attn)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio, qkv_bias, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x, weights_out=None):
        x = x + self.attn(self.norm1(x), weights_out)
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """timm's VisionTransformer (distilled=True: VisionTransformerDistilled). global_pool 'token'
    takes token 0; 'avg' averages the patch tokens (the prefix tokens excluded), after `norm`, or
    before `fc_norm` when fc_norm=True (then `norm` is absent)."""

    def __init__(self, img_size=224, patch_size=16, in_chans=3, num_classes=1000, embed_dim=768,
                 depth=12, num_heads=12, mlp_ratio=4.0, qkv_bias=True, class_token=True,
                 distilled=False, global_pool='token', fc_norm=False, eps=1e-6, init='timm'):
        super().__init__()
        assert global_pool in ('token', 'avg')
        assert not distilled or (class_token and global_pool == 'token')
        assert global_pool == 'avg' or class_token
        self.global_pool, self.distilled = global_pool, distilled
        self.num_prefix_tokens = int(class_token) + int(distilled)
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if class_token else None
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.patch_embed.num_patches + self.num_prefix_tokens, embed_dim))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if distilled else None
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads, mlp_ratio, qkv_bias, eps)
                                      for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=eps) if not fc_norm else nn.Identity()
        self.fc_norm = nn.LayerNorm(embed_dim, eps=eps) if fc_norm else nn.Identity()
        self.head = nn.Linear(embed_dim, num_classes)
        self.head_dist = nn.Linear(embed_dim, num_classes) if distilled else None
        self.init_weights(init)

    @torch.no_grad()
    def init_weights(self, mode):
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        if self.cls_token is not None:
            nn.init.normal_(self.cls_token, std=1e-6)
        if self.dist_token is not None:
            nn.init.trunc_normal_(self.dist_token, std=0.02)
        if mode == 'timm':
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.trunc_normal_(m.weight, std=0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
        else:
            assert mode == 'pytorch', mode

    def forward(self, x, taps=None):
        taps = {} if taps is None else taps
        x = self.patch_embed(x)
        taps['patch_embed'] = x
        prefix = []
        if self.cls_token is not None:
            prefix.append(self.cls_token.expand(x.shape[0], -1, -1))
        if self.dist_token is not None:
            prefix.append(self.dist_token.expand(x.shape[0], -1, -1))
        x = torch.cat(prefix + [x], dim=1) + self.pos_embed
        for i, block in enumerate(self.blocks):
            weights = []
            x = block(x, weights)
            taps[f'blocks.{i}.attn_weights'], taps[f'blocks.{i}'] = weights[0], x
        x = self.norm(x)
        taps['tokens'] = x
        if self.global_pool == 'avg':
            pooled = x[:, self.num_prefix_tokens:].mean(dim=1)
        else:
            pooled = x[:, 0]
        pooled = self.fc_norm(pooled)
        taps['pooled'] = pooled
        logits = self.head(pooled)
        if not self.distilled:
            return logits
        dist = self.head_dist(x[:, 1])
        taps['cls_logits'], taps['dist_logits'] = logits, dist
        return logits if self.training else (logits + dist) / 2


class MixerBlock(nn.Module):
    def __init__(self, dim, seq_len, mlp_ratio, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.mlp_tokens = Mlp(seq_len, int(mlp_ratio[0] * dim))
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp_channels = Mlp(dim, int(mlp_ratio[1] * dim))

    def forward(self, x):
        x = x + self.mlp_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.mlp_channels(self.norm2(x))


def lecun_normal_(t):
    """timm's lecun_normal_: truncated normal at +-2 std, std = sqrt(1 / fan_in) / 0.8796..."""
    fan_in = t.shape[1] * t[0][0].numel()
    std = math.sqrt(1.0 / fan_in) / .87962566103423978
    nn.init.trunc_normal_(t, std=std, a=-2 * std, b=2 * std)


class MlpMixer(nn.Module):
    """timm's MlpMixer (global_pool 'avg', stem without norm)."""

    def __init__(self, num_classes=1000, img_size=224, in_chans=3, patch_size=16, num_blocks=8,
                 embed_dim=512, mlp_ratio=(0.5, 4.0), eps=1e-6, init='timm'):
        super().__init__()
        self.stem = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        self.blocks = nn.Sequential(*[MixerBlock(embed_dim, self.stem.num_patches, mlp_ratio, eps)
                                      for _ in range(num_blocks)])
        self.norm = nn.LayerNorm(embed_dim, eps=eps)
        self.head = nn.Linear(embed_dim, num_classes)
        if init == 'timm':
            self.init_timm()
        else:
            assert init == 'pytorch', init

    @torch.no_grad()
    def init_timm(self):
        for name, m in self.named_modules():
            if isinstance(m, nn.Linear):
                if name.startswith('head'):
                    nn.init.zeros_(m.weight)
                    nn.init.zeros_(m.bias)
                else:
                    nn.init.xavier_uniform_(m.weight)
                    if 'mlp' in name:
                        nn.init.normal_(m.bias, std=1e-6)
                    else:
                        nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Conv2d):
                lecun_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x, taps=None):
        taps = {} if taps is None else taps
        x = self.stem(x)
        taps['stem'] = x
        for i, block in enumerate(self.blocks):
            x = block(x)
            taps[f'blocks.{i}'] = x
        x = self.norm(x)
        taps['tokens'] = x
        x = x.mean(dim=1)
        taps['pooled'] = x
        return self.head(x)


# ---- the registry's configurations (models/registry.cpp) ----

# shared/spec/benchmarks.md "Models": LayerNorm eps 1e-5, GELU erf, PyTorch's default init.
BENCH = dict(eps=1e-5, init='pytorch')


def vit_small28(num_classes=10, in_chans=1):
    return VisionTransformer(28, 4, in_chans, num_classes, 64, 4, 4, 2.0, class_token=False,
                             global_pool='avg', **BENCH)


def mixer_small28(num_classes=10, in_chans=1):
    return MlpMixer(num_classes, 28, in_chans, 4, 4, 64, (0.5, 2.0), **BENCH)


def deit_tiny(num_classes=1000, in_chans=3):
    return VisionTransformer(224, 16, in_chans, num_classes, 192, 12, 3, 4.0, **BENCH)


def mixer_s16(num_classes=1000, in_chans=3):
    return MlpMixer(num_classes, 224, in_chans, 16, 8, 512, (0.5, 4.0), **BENCH)


# shared/spec/models-and-transformer-kd.md §A3.6, §A4, §A5: timm's eps 1e-6 and init.

def deit_tiny_distilled(num_classes=1000, in_chans=3):
    return VisionTransformer(224, 16, in_chans, num_classes, 192, 12, 3, 4.0, distilled=True)


def vit_ti_p4_32(num_classes=100, in_chans=3):
    return VisionTransformer(32, 4, in_chans, num_classes, 192, 12, 3, 4.0)


def vit_ti_p4_32_d6(num_classes=100, in_chans=3):
    return VisionTransformer(32, 4, in_chans, num_classes, 192, 6, 3, 4.0)


def deit_ti_dist_p4_32(num_classes=100, in_chans=3):
    return VisionTransformer(32, 4, in_chans, num_classes, 192, 12, 3, 4.0, distilled=True)


def vit_micro_p4_28(num_classes=10, in_chans=1):
    return VisionTransformer(28, 4, in_chans, num_classes, 64, 6, 4, 2.0)


def mixer_p4_32(num_classes=100, in_chans=3):
    return MlpMixer(num_classes, 32, in_chans, 4, 8, 256, (0.5, 4.0))


MODELS = {f.__name__: f for f in (vit_small28, mixer_small28, deit_tiny, mixer_s16,
                                   deit_tiny_distilled, vit_ti_p4_32, vit_ti_p4_32_d6,
                                   deit_ti_dist_p4_32, vit_micro_p4_28, mixer_p4_32)}


def create(name, **kwargs):
    """A model by its tutor registry name; kwargs: num_classes, in_chans."""
    if name not in MODELS:
        raise KeyError(f'unknown model {name!r} (known: {", ".join(MODELS)})')
    return MODELS[name](**kwargs)
