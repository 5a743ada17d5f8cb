"""The colours of every figure, colour-blind safe: Okabe-Ito for regions and blocks, Viridis for
probabilities, a diverging scale centred at 0 for biases and scores, and the greys of padding."""

from __future__ import annotations

OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#999999",  # grey
)
REGION_COLORS = OKABE_ITO  # region id k is drawn in REGION_COLORS[k]
BLOCK_COLORS = ("#0072B2", "#D55E00")  # block 0 (W-MSA) blue, block 1 (SW-MSA) vermillion
QUERY_COLOR = "#F0E442"
SEQUENTIAL = "Viridis"  # probabilities, counts
# a dark halo round white labels drawn on the image (window numbers, region ids): legible on
# white, black and busy images alike (CSS text-shadow, as plotly's textfont.shadow takes it)
HALO = "0px 0px 2px #000000, 0px 0px 2px #000000, 0px 0px 4px #000000"
DIVERGING = "RdBu_r"  # bias, scores, logits: always with zmid=0
MASK_SCALE = [[0.0, "#1b1b1b"], [1.0, "#f7f7f7"]]  # -100 dark, 0 light
PAD_FILL = "#e4e4e4"  # the padding cells' ground, drawn hatched
PAD_HATCH = "#8a8a8a"
OUTSIDE_FILL = "#cfcfcf"  # inside the token grid but beyond the image (an odd side's merge)


def rgba(hex_color: str, alpha: float) -> str:
    """"#E69F00", 0.4 -> "rgba(230,159,0,0.4)"."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def region_colorscale(n: int = 9) -> list:
    """Discrete colour scale: integer id k (0..n-1) in REGION_COLORS[k] (zmin=-0.5,
    zmax=n-0.5)."""
    scale = []
    for k in range(n):
        scale += [[k / n, REGION_COLORS[k]], [(k + 1) / n, REGION_COLORS[k]]]
    return scale
