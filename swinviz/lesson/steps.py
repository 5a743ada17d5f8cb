"""The lesson's steps, in the order of the design note's argument: the problem (global
attention is quadratic), each fix, and what it costs. This tuple is the one list the page's tour
and the deck both read; a step's words live in `swinviz/lesson/lang/<language>.py` under the
step's name, its picture in `swinviz.lesson.visuals` under `visual`.

Adding a step: one `Step(...)` here, one entry in every language file, one visual (or reuse one).
"""

from __future__ import annotations

from dataclasses import dataclass

# What a "try this" prompt does in the page (its words are each language's TRY):
#   corner / boundary / middle: move the step's query; stage1 / stage4: explore that stage
ACTIONS = ("corner", "boundary", "middle", "stage1", "stage4")


@dataclass(frozen=True)
class Step:
    name: str  # the slide's file name ("04-windows.png") and the key of its words
    visual: str  # the picture, a builder in swinviz.lesson.visuals
    kind: str | None  # the figure kind (page tab) that shows the same thing in full
    focus: str = "query"  # where the step looks: "query" (on a window boundary), "corner"
    block: int = 0  # the block of the pair it shows first (0: W-MSA, 1: the shifted one)
    head: int | None = None  # the head it shows (None: the mean over heads, or none)
    code: tuple[str, ...] = ()  # the reference code's lines it explains
    # ... where its block does not shift (s = 0: one window covers the grid): the reference's
    # own `if self.shift_size > 0:` with its else branch (`Lesson.code` picks)
    unshifted: tuple[str, ...] = ()
    weights: bool = False  # its picture depends on learned weights (the "random" badge)
    tries: tuple[str, ...] = ()  # ACTIONS offered in the page


STEPS: tuple[Step, ...] = (
    Step("title", "title", None),
    Step("patches", "patches", "windows", code=(
        "# PatchEmbed: one 4x4x3 patch -> one token of C numbers",
        "x = self.proj(x)  # Conv2d(3, C, kernel_size=4, stride=4)",
        "x = x.flatten(2).transpose(1, 2)  # (B, H/4 * W/4, C)",
    ), tries=("middle",)),
    Step("cost", "cost", "cost", code=(
        "# global: every token against every token",
        "attn = q @ k.transpose(-2, -1)  # (B, nH, hw, hw)",
        "# windowed: only inside M x M windows",
        "attn = q @ k.transpose(-2, -1)  # (nW*B, nH, M*M, M*M)",
    ), tries=("stage1", "stage4")),
    Step("windows", "windows", "windows", code=(
        "def window_partition(x, M):",
        "    B, H, W, C = x.shape",
        "    x = x.view(B, H // M, M, W // M, M, C)",
        "    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, M, M, C)",
    ), tries=("boundary", "corner")),
    Step("block", "block", "shapes", code=(
        "x = x + self.attn(self.norm1(x))  # W-MSA, or SW-MSA",
        "x = x + self.mlp(self.norm2(x))",
    )),
    Step("shift", "shift", "shift", block=1, code=(
        "# the paper moves the windows right and down by s;",
        "# the code moves the tokens up and left instead:",
        "shifted_x = torch.roll(x, shifts=(-s, -s), dims=(1, 2))",
        "x_windows = window_partition(shifted_x, M)",
    ), unshifted=(
        "if self.shift_size > 0:  # s = 0 here: skipped",
        "    shifted_x = torch.roll(x, shifts=(-s, -s), dims=(1, 2))",
        "else:",
        "    shifted_x = x",
        "x_windows = window_partition(shifted_x, M)",
    ), tries=("stage4",)),
    Step("regions", "regions", "regions", block=1, code=(
        "img_mask = torch.zeros((1, H, W, 1))",
        "slices = (slice(0, -M), slice(-M, -s), slice(-s, None))",
        "cnt = 0",
        "for h in slices:",
        "    for w in slices:",
        "        img_mask[:, h, w, :] = cnt",
        "        cnt += 1",
    ), unshifted=(
        "if self.shift_size > 0:  # s = 0 here: skipped",
        "    img_mask = torch.zeros((1, H, W, 1))",
        "    ...  # the slice loop: one id per region",
        "else:",
        "    attn_mask = None",
    ), tries=("stage1", "stage4")),
    Step("mask", "mask", "masks", focus="corner", block=1, code=(
        "mask_windows = window_partition(img_mask, M).view(-1, M * M)",
        "attn_mask = mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2)",
        "attn_mask = attn_mask.masked_fill(attn_mask != 0, -100.0)",
        "attn = attn + attn_mask  # before the softmax",
    ), unshifted=(
        "if self.shift_size > 0:  # s = 0 here: skipped",
        "    attn_mask = attn_mask.masked_fill(attn_mask != 0, -100.0)",
        "else:",
        "    attn_mask = None  # only the bias is added",
    ), tries=("corner", "boundary")),
    Step("relpos", "relpos", "relpos", code=(
        "coords = torch.stack(torch.meshgrid(arange(M), arange(M)))",
        "rel = coords.flatten(1)[:, :, None] - coords.flatten(1)[:, None, :]",
        "rel = rel.permute(1, 2, 0) + (M - 1)  # offsets from 0 to 2M-2",
        "index = rel[:, :, 0] * (2 * M - 1) + rel[:, :, 1]",
    )),
    Step("bias", "bias", "bias", head=0, weights=True, code=(
        "table = nn.Parameter(torch.zeros((2*M - 1) ** 2, nH))",
        "bias = table[index.view(-1)].view(M*M, M*M, nH)",
        "bias = bias.permute(2, 0, 1)  # (nH, N, N)",
        "attn = q @ k.transpose(-2, -1) * scale + bias.unsqueeze(0)",
    )),
    Step("attention", "attention", "attention", block=1, weights=True, code=(
        "attn = q @ k.transpose(-2, -1) * scale",
        "attn = attn + bias + mask  # mask: the shifted block only",
        "attn = attn.softmax(dim=-1)",
        "x = (attn @ v).transpose(1, 2).reshape(nW*B, M*M, C)",
    ), tries=("boundary", "corner", "stage4")),
    Step("rollback", "rollback", "shift", block=1, code=(
        "shifted_x = window_reverse(attn_windows, M, H, W)",
        "x = torch.roll(shifted_x, shifts=(s, s), dims=(1, 2))",
    ), unshifted=(
        "shifted_x = window_reverse(attn_windows, M, H, W)",
        "if self.shift_size > 0:  # s = 0 here: skipped",
        "    x = torch.roll(shifted_x, shifts=(s, s), dims=(1, 2))",
        "else:",
        "    x = shifted_x",
    )),
    Step("flow", "flow", "flow", code=(
        "for blk in stage.blocks:  # shift 0, s, 0, s, ... (s = 0 in one window)",
        "    x = blk(x)",
    ), tries=("boundary", "corner", "stage4")),
    Step("whatif", "whatif", "parts", focus="corner", block=1, weights=True, code=(
        "# leave one part out (model.without(...)):",
        "attn = q @ k.transpose(-2, -1) * scale + bias  # no mask",
        "shift_size = 0                                  # no shift",
        "attn = q @ k.transpose(-2, -1) * scale + mask  # no bias",
    ), tries=("corner", "middle", "stage4")),
    Step("merging", "merging", "shapes", code=(
        "x0, x1 = x[:, 0::2, 0::2], x[:, 1::2, 0::2]",
        "x2, x3 = x[:, 0::2, 1::2], x[:, 1::2, 1::2]",
        "x = torch.cat([x0, x1, x2, x3], -1)  # (B, H/2, W/2, 4C)",
        "x = self.reduction(self.norm(x))  # 4C -> 2C",
    ), tries=("stage1", "stage4")),
    Step("last", "last", "windows", code=(
        "if min(self.input_resolution) <= self.window_size:",
        "    self.shift_size = 0",
        "    self.window_size = min(self.input_resolution)",
    ), tries=("stage4",)),
    Step("table", "table", "cost"),
    Step("evidence", "evidence", "evidence", block=1, weights=True, code=(
        "A = kept[blk.norm1]  # (B, L, C): from a forward hook",
        "g = torch.autograd.grad(logits[0, cls], A)[0]",
        "alpha = g.mean(dim=1)  # (B, C): one weight per channel",
        "cam = torch.relu((A * alpha[:, None]).sum(-1))  # (B, L)",
    ), tries=("boundary", "middle", "stage4")),
    # what Swin V2 changed in the same block (docs/concepts.md, facts 16-19)
    Step("v2", "v2", "cost", code=(
        "attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).mT",
        "tau = self.logit_scale.clamp(max=math.log(100)).exp()",
        "bias = 16 * sigmoid(self.cpb_mlp(coords))  # any M",
        "x = x + self.norm1(self.attn(x))  # norm after",
    ), tries=("stage1", "stage4")),
)


def step_names() -> tuple[str, ...]:
    return tuple(s.name for s in STEPS)


def get_step(key: int | str) -> Step:
    """A step by its index (0-based) or name; a ValueError naming the range or the names."""
    if isinstance(key, str):
        for s in STEPS:
            if s.name == key:
                return s
        raise ValueError(f"unknown lesson step {key!r}; choose from {', '.join(step_names())}")
    if not 0 <= key < len(STEPS):
        raise ValueError(f"lesson step {key} is outside 0..{len(STEPS) - 1}")
    return STEPS[key]


def slide_file(index: int) -> str:
    """The slide's PNG name: 0 -> "01-title.png"."""
    return f"{index + 1:02d}-{STEPS[index].name}.png"
