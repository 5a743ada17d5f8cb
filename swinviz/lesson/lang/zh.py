"""课程的中文版：与 en.py 一一对应（同样的键、同样的数字），术语沿用设计笔记：
窗口、移位窗口、循环移位、区域 id、掩码、相对位置索引、相对位置偏置、注意力头。"""

from __future__ import annotations

import numpy as np

from ...figures._core.labels import PAIRS
from ...figures._core.text import si

NAME = "中文"

UI = {
    "lesson": "课程",
    "deck_title": "Swin Transformer：移位窗口注意力",
    "step_of": "第 {k} 步，共 {n} 步",
    "prev": "◀ 上一步",
    "next": "下一步 ▶",
    "random": "随机权重",
    "code": "参考代码",
    "try": "试一试",
    "deeper": "完整图：{tab} 标签页",
    "footer": "swinviz · {arch}，第 {stage} 阶段",
    "query": "查询 token",
    "block0": "block {b}（W-MSA）",
    "block1_shift": "block {b}（SW-MSA，移位 {s}）",
    "block1_plain": "block {b}（W-MSA：移位为 0）",
    "after0": "block {b} 之后",
    "after1": "block {b} 之后",
    "paper_view": "论文：窗口向右下移动 {s}",
    "code_view": "代码：token 向左上循环移位 {s}",
    "rolled": "移位之后：在这里划分窗口",
    "back": "反向移位：每个 token 回到原位",
    "region": "区域",
    "last_grid": "{H}×{W} · M = {M} · 移位 {s}",
    "labelled": "{what}：{value}",
    "region_corner": "区域 · 第 {r0}–{r1} 行，第 {c0}–{c1} 列",
    "mask_of": "窗口 {w} 的掩码（-100 深色，0 浅色）",
    "index_m3": "索引，M = 3（9 个 token）",
    "index_m": "索引，M = {M}（{N} 个 token）",
    "bias_of": "注意力头 {h} 的偏置表，{k}×{k} 个偏移",
    "global": "全局注意力",
    "windowed": "窗口注意力",
    "proj_part": "4hwC²（线性映射）",
    "attn_part": "注意力矩阵乘法",
    "stage_cols": ("阶段", "token 网格", "C", "注意力头", "窗口", "移位"),
    "table_cols": ("", "参数量", "FLOPs"),
    "this_model": "本模型",
    "paper_t1": "论文表 1",
    "no_paper": "不在表 1 中",
    "ln": "LayerNorm", "mlp": "MLP", "add": "+",
    "leak_map": "没有掩码：落在其他区域上的权重",
    "no_mask_map": "没有可去掉的掩码",
    "reach_map": "{k} 对 block 后的影响范围：蓝色 {b} 无移位，加橙色 {a} 有移位",
    "reach_same": "{k} 对 block 之后的影响范围：{b}，有无移位都一样",
    "cam_map": "“{cls}”的 Grad-CAM，block {b}",
    "reads_map": "({r}, {c}) 读取的位置，block {b}",
    "no_evidence": "这次运行没有类别证据",
    "v2_cols": ("这个阶段的一个 block", "Swin V1", "Swin V2"),
    "v2_logit": "注意力 logit",
    "v2_bias": "位置偏置的参数<br>（M\u00a0=\u00a0{M}）",  # table cells: kept whole
    "v2_bigger": "M\u00a0=\u00a0{M} 的窗口",
    "v2_same": "同一个 MLP",
    "v2_norms": "LayerNorm",
    "v2_before": "在注意力、MLP 之前",
    "v2_after": "在它们之后",
    "v2_block": "block 的参数量",
}

TRY = {
    "corner": "把查询移到角落",
    "boundary": "把查询移到窗口边界上",
    "middle": "把查询移到中间",
    "stage1": "切换到第 1 阶段",
    "stage4": "切换到第 4 阶段",
}




def _why_no_shift(n) -> str:
    if n.one:
        return f"一个 {n.M}×{n.M} 窗口已经覆盖整个 {n.H}×{n.W} 网格，没有需要移位的"
    return "移位被设为 0"


def _title(n, r):
    lines = [f"{n.arch}：一张 {n.img_w}×{n.img_h} 像素的图像，观察第 {n.stage} 阶段的 "
             f"block {n.b0} 和 block {n.b1}。",
             "每页一个要点：问题、每一步的解决办法，以及它的代价。",
             "每张图都来自这次运行的真实张量。"]
    if n.random:
        lines.append("权重是随机的：形状和掩码是精确的，学到的数值只是噪声。")
    return lines


def _patches(n, r):
    first = n.stages[0].px if n.stages else n.p
    lines = [f"图像被切成 {first}×{first} 像素的 patch，每个 patch 一个 token。"]
    if n.stage > 1:
        lines.append(f"经过 {n.stage - 1} 次 patch 合并，第 {n.stage} 阶段的一个 token 代表 "
                     f"{n.p}×{n.p} 像素：{n.H}×{n.W} 的 token 网格。")
    else:
        lines.append(f"得到 {n.H}×{n.W} 的 token 网格。")
    lines.append(f"在第 {n.stage} 阶段，每个 token 有 C = {n.C} 个数。")
    lines.append(f"黄色：token ({n.query[0]}, {n.query[1]})，本讲跟踪的查询 token。")
    return lines


def _cost(n, r):
    lines = ["全局注意力：Ω(MSA) = 4hwC² + 2(hw)²C。",
             "窗口注意力：Ω(W-MSA) = 4hwC² + 2M²hwC。",
             f"这里 h·w = {n.H}·{n.W} = {n.hw}，C = {n.C}，M = {n.M}："
             f"{si(n.msa)} 对 {si(n.wmsa)} 次乘加运算：全局注意力是窗口注意力的 "
             f"{n.ratio:.1f} 倍。"]
    if n.padded:
        lines.append(f"窗口从填充到 {n.Hp}×{n.Wp} 的网格上划分，所以 W-MSA 实际计算 "
                     f"{si(n.wmsa_run)} 次乘加运算：全局注意力是各 block 实际计算量的 "
                     f"{n.msa / n.wmsa_run:.1f} 倍（代价图中的 ×）；公式和参考代码的 flops() "
                     f"一样，只计图像的 {n.hw} 个 token。")
    if n.one:
        lines.append(f"这一阶段一个窗口就覆盖了整个网格（M² = {n.N} ≥ hw = {n.hw}）："
                     f"窗口在这里省不了计算，它们在大网格上才划算。")
    else:
        lines.append("(hw)² 项随 token 数的平方增长；M²hw 项只随 token 数线性增长。")
    return lines


def _windows(n, r):
    lines = [f"block {n.b0} 把 {n.Hp}×{n.Wp} 网格划分成 {n.nW} 个 {n.M}×{n.M} = {n.N} "
             f"个 token 的窗口。",
             f"注意力只在窗口内部计算：每个 token 只和另外 {n.N - 1} 个 token 交互。"]
    if n.padded:
        lines.append(f"{n.H}×{n.W} 不是 {n.M} 的整数倍：先用零 token 填充到 {n.Hp}×{n.Wp}。")
    if not n.one:
        lines.append("问题：窗口边界两侧的 token 永远见不到彼此。")
    return lines


def _block(n, r):
    shifted = (f"然后是 block {n.b1}：结构相同，换成 SW-MSA（窗口移位 {n.s}）"
               if n.s else f"然后是 block {n.b1}：仍是 W-MSA（{_why_no_shift(n)}）")
    return ["一个 Swin block：LayerNorm → 窗口注意力 → 残差相加，LayerNorm → MLP → 残差相加。",
            f"block 成对出现：先是 W-MSA（规则窗口），{shifted}。",
            f"从 block 输入到输出，形状始终是 (B, {n.hw}, {n.C})。"]


def _shift(n, r):
    if n.s == 0:
        return [f"block {n.b1} 不移位：{_why_no_shift(n)}。",
                f"它的窗口就是 block {n.b0} 的窗口，循环移位被跳过。",
                "切换到第 1 阶段（或 6x6 示例）可以看到循环移位。"]
    return [f"block {n.b1} 把窗口移位 s = {n.s} 个 token。",
            "论文把窗口画成向右下移动；代码则把 token 向左上循环移位，再切出同样的规则窗口。",
            "两者的分组相同；从上边和左边移出的条带会从下边和右边回来。"]


def _regions(n, r):
    if n.s == 0:
        return [f"没有移位时参考代码不构造 img_mask（attn_mask = None）：{_why_no_shift(n)}，"
                f"没有窗口会混入图像两侧的碎片。"]
    return ["slice 循环在移位后的图上逐行给 9 个区域编号 0..8。",
            f"每个轴上的三段：[0, {n.Hp - n.M})、[{n.Hp - n.M}, {n.Hp - n.s})、"
            f"[{n.Hp - n.s}, {n.Hp})。",
            "区域 id 相同的 token 在移位前是相邻的。",
            "最后一行或最后一列的窗口混有不同的 id：那是绕回来的碎片。",
            *(["灰色覆盖的是填充的零 token，它们和其余 token 一起移位，也得到区域 id。"]
              if n.padded else [])]


def _mask(n, r):
    if n.s == 0:
        return [f"block {n.b1} 没有掩码：{_why_no_shift(n)}，没有窗口包含绕回来的碎片，"
                f"注意力分数上只加相对位置偏置。"]
    lines = ["mask_windows.unsqueeze(1) − mask_windows.unsqueeze(2)："
             "两个 token 属于同一区域时为 0，否则非 0。",
             "masked_fill 把所有非零值变成 −100，在 softmax 之前加到注意力分数上。",
             "exp(−100) ≈ 3.7e-44：权重只是趋近于 0，小到 float32 加到 1 上时完全体现不出来。"]
    if r.masked_max is not None:
        lines.append(f"这次运行中被掩码屏蔽的最大权重是 {r.masked_max:.1e}。")
    return lines


def _relpos(n, r):
    k = 2 * n.M - 1
    if n.M == 3:  # the picture's one panel is this model's index
        return ["相对偏移 (Δ行, Δ列) 相同的 token 对共用偏置表中的同一项。",
                "本模型的 M = 3：9×9 个 token 对，5×5 = 25 种偏移，对角线（偏移 0, 0）都是 12。",
                "索引是固定的；只有它读取的偏置表是学出来的。"]
    return ["相对偏移 (Δ行, Δ列) 相同的 token 对共用偏置表中的同一项。",
            "左：M = 3 的索引：9×9 个 token 对，5×5 = 25 种偏移，对角线（偏移 0, 0）都是 12。",
            f"右：本模型的 M = {n.M}：{n.N}×{n.N} 个 token 对读取 {k}×{k} = {n.table} 项。",
            "索引是固定的；只有它读取的偏置表是学出来的。"]


def _bias(n, r):
    lines = [f"{n.heads} 个注意力头各自学习一张 {n.table} 个数的表，每种偏移一个数。",
             f"注意力头 0 在窗口内各 token 对上的偏置从 {r.bias_lo:+.3f} 到 {r.bias_hi:+.3f}"
             f"（每个窗口都相同）；"
             f"它在 softmax 之前加到每个分数上。"]
    if n.random:
        lines.append("这些权重是随机的：图案只是噪声，不能说明偏好近处还是远处的 token。")
    else:
        lines.append("看哪些行、列或中心突出：这是这个注意力头仅凭偏移学到要加的值。")
    return lines


def _attention(n, r):
    q = f"({r.query[0]}, {r.query[1]})"
    lines = [f"查询 {q}：它在窗口内的注意力权重，先 block {n.b0} 后 block {n.b1}"
             f"（{n.heads} 个注意力头的平均）。"]
    if n.s == 0:
        lines.append(f"两个 block 用同一个窗口（{_why_no_shift(n)}）：只有两者的权重不同。")
    elif r.windows_joined > 1:
        lines.append(f"block {n.b1} 的移位窗口连接了 block {n.b0} 的 {r.windows_joined} 个窗口："
                     f"查询 {r.cross_share:.0%} 的权重落在它之前看不到的 token 上。")
    else:
        lines.append(f"这个查询的移位分组仍在 block {n.b0} 的一个窗口内"
                     f"（掩码把绕回来的碎片隔开）；把它移到边界上试试。")
    if n.random:
        lines.append("随机权重：对这个模型数值是精确的，图案只是噪声。")
    return lines


def _rollback(n, r):
    if n.s == 0:
        return [f"无需反向移位：block {n.b1} 没有移位（{_why_no_shift(n)}）。"]
    return [f"注意力之后窗口被拼回，再循环移位 +{n.s}：每个 token 回到原位。",
            "移位只是暂时的：token 在图像中的位置从不改变，改变的只是哪些 token 同在一个窗口。",
            "之前移 −s，之后移 +s：这一对 block 的输出按图像顺序排列。"]


def _flow(n, r):
    lines = [f"block {n.b0} 之后，有 {r.reach0} 个 token 能影响查询（它所在的窗口）。"]
    if n.s == 0 or r.reach1 == r.reach0:
        why = (_why_no_shift(n) if n.s == 0 else "它的移位分组在一个窗口之内（掩码挡住了绕回）")
        lines.append(f"block {n.b1} 之后：仍是 {r.reach1} 个：{why}。")
    else:
        lines.append(f"block {n.b1} 之后：{r.reach1} 个 token，来自 {r.windows_joined} 个窗口："
                     f"移位让信息跨过了窗口边界。")
        lines.append("就像自习教室里通过中间人传纸条：每对 block 都传得更远，没有 token 离开座位。")
    return lines


def _whatif(n, r):
    q = f"({r.query[0]}, {r.query[1]})"
    if r.leak is None:
        lines = [f"去掉掩码：这里什么也不变；不移位就没有掩码（{_why_no_shift(n)}）。"]
    elif r.leak < 1e-6:
        lines = [f"去掉掩码：查询 {q} 的窗口只有一个区域，不会泄漏；最后一行或一列的窗口最多把 "
                 f"{r.leak_max:.0%} 的权重给了图像另一侧的 key。"]
    else:
        lines = [f"去掉掩码：查询 {q} 把 {r.leak:.0%} 的权重给了循环移位从图像另一侧带来的 key"
                 f"（单个窗口最多 {r.leak_max:.0%}）。"]
    if r.reach_shift is None:
        lines.append(f"去掉移位：同样什么也不变；能影响查询的 token 有 {r.reach_flat} 个。")
    else:
        lines.append(f"去掉移位：{PAIRS} 对 block 之后只有 {r.reach_flat} 个 token 能影响查询"
                     f"（它自己的窗口）；有移位时是 {r.reach_shift} 个。")
    lines.append(f"去掉相对位置偏置：查询的权重有 {r.bias_moved:.1%} 发生转移；注意力只看内容，"
                 f"不知道 key 在哪里。")
    if n.random:
        lines.append("随机权重：转移多少没有意义；会转移、转移到哪里，才是机制本身。")
    return lines


def _evidence(n, r):
    q = f"({r.query[0]}, {r.query[1]})"
    if r.evidence_class is None:
        return ["注意力说明一个 token 读取哪里，却不说明模型为什么选了某个类别。",
                "这次运行没有类别证据（Grad-CAM 需要多一次前向和反向传播）。"]
    lines = [f"“{r.evidence_class}”（{r.evidence_p:.1%}）的 Grad-CAM：block 的激活按该类别 "
             f"logit 的梯度加权。",
             f"查询 {q} 的注意力是这个 token 读取的位置：对每个类别都一样。"]
    if np.isfinite(r.evidence_agree):
        lines.append(f"在查询的窗口内，两者的相关系数 r = {r.evidence_agree:.2f}："
                     f"注意力不等于解释。")
    elif r.evidence_flat:
        lines.append("在查询的窗口内，类别证据在每个 token 上都是 0（ReLU 之后）：那里没有 token "
                     "提高这个类别的分数，无从比较两者；注意力仍然不等于解释。")
    if n.random:
        lines.append("随机权重：两张图都还不能说明这张图像的任何内容。")
    return lines


def _merging(n, r):
    lines = ["patch 合并：每 2×2 个 token 拼接成 4C，再线性映射到 2C。",
             "网格边长减半（边长为奇数时先补一行或一列零），通道数翻倍；网格放得下时窗口仍是 "
             "M×M 个 token。"]
    if n.stages:
        lines.append(" → ".join(f"{s.H}×{s.W}" for s in n.stages)
                     + " 个 token；C " + " → ".join(str(s.dim) for s in n.stages) + "。")
    return lines


def _last(n, r):
    if not n.stages:
        return ["网格能放进一个窗口的阶段就用这个窗口，而且不移位。"]
    last = n.stages[-1]
    if n.last_fits:
        fit = (f"一个 {last.M}×{last.M} 窗口覆盖了它的 {last.H}×{last.W} 网格"
               if last.M >= min(last.H, last.W) else "它的移位被设为 0")
        whole = ("它的网格只有一个 token：那里的注意力只是这个 token 关注自己。"
                 if last.H * last.W == 1 else
                 "每个 token 已经关注所有其他 token：覆盖整个网格的窗口就是全局注意力。")
        return [f"第 {last.stage} 阶段：{fit}。",
                "代码于是把移位设为 0：两个 block 都是普通的 W-MSA，没有掩码。",
                whole]
    return [f"第 {last.stage} 阶段：{last.H}×{last.W} 个 token，{last.M}×{last.M} 的窗口，"
            f"移位 {last.s}：在这个输入尺寸下最后一个阶段也移位。"]


def _table(n, r):
    lines = []
    if n.params is not None:
        lines.append(f"{n.arch}：{n.params / 1e6:.1f} M 参数，{n.flops / 1e9:.2f} G FLOPs（乘加），"
                     f"按参考代码 flops() 的方式计数。")
    lines.append("论文表 1：Swin-T 28M / 4.5G，Swin-S 50M / 8.7G，Swin-B 88M / 15.4G（224 像素）。")
    lines.append("窗口让这成为可能：计算量随 token 数线性增长。")
    return lines


def _v2(n, r):
    from ..numbers import grouped, v2_change

    d = v2_change(n.C, n.heads, n.M)
    return ["Swin V2 保留窗口、移位和掩码，改变了 block 里面的三个部分。",
            "注意力：q 与 k 的余弦相似度乘以每个注意力头学习的温度（最大 100），代替 q·kᵀ/√d："
            "无论模型多大，logit 都保持有界。",
            f"位置偏置：一个作用于对数间隔偏移的小 MLP 代替偏置表。这里（M = {n.M}，{n.heads} 个"
            f"注意力头）它的 {grouped(d.mlp)} 个参数代替表中的 {grouped(d.table)} 个，"
            f"并能为任意窗口给出偏置："
            f"{2 * n.M}×{2 * n.M} 的窗口需要一张 {grouped(d.table_2m)} 个参数的新表。",
            "归一化：放在注意力和 MLP 之后，而不是之前（res-post-norm）。"]


NO_SHIFT_NOTES = {
    "windows": lambda n, r: "window_partition 只是 reshape 和 permute。在这一阶段，窗口已经覆盖了"
    "一个 token 能到达的全部范围。",
    "block": lambda n, r: "和 ViT 一样是预归一化的残差块。这一对 block 都是 W-MSA："
    "没有需要移位的。",
    "shift": lambda n, r: "这一对 block 没有循环移位。切换到第 1 阶段（或 6x6 示例）可以看到它。",
    "regions": lambda n, r: "参考代码只在移位时构造 img_mask；这里 attn_mask 为 None。",
    "mask": lambda n, r: "这里没有掩码：softmax 之前只加相对位置偏置。",
    "attention": lambda n, r: "两个 block 看的是同一个窗口；比较它们的权重，差别只来自各自的参数。",
    "rollback": lambda n, r: "没有移位，也就没有要撤销的：两个 block 都按图像顺序读写 token。",
    "flow": lambda n, r: "没有移位时，这一对 block 内的影响范围不会增长；"
    "它是前面的阶段建立起来的。",
}

STEPS = {
    "title": dict(title="Swin Transformer：移位窗口注意力", body=_title,
                  notes=lambda n, r: "我们跟踪一张图像穿过一对 Swin block。每一页讲一个要点，"
                  "图都来自这次运行。"),
    "patches": dict(title="图像和它的 patch", body=_patches,
                    notes=lambda n, r: "Swin 的开头和 ViT 一样：图像变成 token 网格，每个 patch "
                    "一个 token。与 ViT 不同的是它保留了网格：之后的每一步都按行和列操作。"),
    "cost": dict(title="为什么用窗口：全局注意力的代价", body=_cost,
                 notes=lambda n, r: "逐项读这两个公式：线性映射的代价相同，只有注意力乘法不同。"
                 "把 (hw)² 换成 M²·hw，计算量就与 token 数成线性关系。"),
    "windows": dict(title="W-MSA：窗口内的注意力", body=_windows,
                    notes=lambda n, r: "window_partition 只是 reshape 和 permute："
                    "窗口之间不复制数据。问一问：边界两侧相邻的两个 token 怎么办？"),
    "block": dict(title="Swin block，成对出现", body=_block,
                  notes=lambda n, r: "和 ViT 一样是预归一化（pre-norm）的残差块；"
                  "唯一的区别是用哪种注意力。"
                  "一对 block 是基本单元：先规则窗口，再移位窗口。"),
    "shift": dict(title="循环移位", body=_shift,
                  notes=lambda n, r: "论文的图和代码看起来方向相反：论文里窗口向右下移，代码里 "
                  "token 向左上滚动。两者的相对位移相同，而且循环移位不增加窗口数。"),
    "regions": dict(title="区域 id：slice 循环", body=_regions,
                    notes=lambda n, r: "img_mask 只在移位后的图上构造一次。"
                    "每个轴三段，得到九个区域；只有在混合了多个区域的窗口里 id 才起作用。"),
    "mask": dict(title="掩码：softmax 之前加 −100", body=_mask,
                 notes=lambda n, r: "区域 id 之差恰好在同一区域的 token 对上为零。加 −100 并不是把"
                 "权重设为零：它只是其他权重的 exp(−100) 倍，float32 求和时与零无法区分。"),
    "relpos": dict(title="相对位置索引", body=_relpos,
                   notes=lambda n, r: "注意力本身不管顺序；偏置只按偏移把位置信息加回来。索引表是 "
                   "buffer，对同一 M 的每个窗口、每个 block 都相同。"),
    "bias": dict(title="相对位置偏置", body=_bias,
                 notes=lambda n, r: "偏置表有 (2M−1)² 行，每个注意力头一列；索引从中取出 N×N 的"
                 "偏置。不要从随机权重里读出偏好。"),
    "attention": dict(title=lambda n: "窗口边界上一个查询的注意力" if n.s
                      else "一个查询在两个 block 中的注意力", body=_attention,
                      notes=lambda n, r: "把两个 block 并排看：同一个查询，两个不同的窗口。移位窗口"
                      "跨过旧边界的地方，信息也跨了过去。"),
    "rollback": dict(title="反向循环移位", body=_rollback,
                     notes=lambda n, r: "用 +s 的 torch.roll 正好抵消 −s。下一个 block 看到的是图像"
                     "顺序的 token，再次切出规则窗口。"),
    "flow": dict(title="一对 block 中的信息流动", body=_flow,
                 notes=lambda n, r: "数一数能影响查询的 token：W-MSA 之后是一个窗口，SW-MSA 之后"
                 "范围更大。没有移位，这个数永远不会增长。"),
    "whatif": dict(title="每个部分为什么存在：去掉一个看看", body=_whatif,
                   notes=lambda n, r: "每个数字都来自这对 block 自己的张量，只去掉一项，输入不变。"
                   "在页面上，「What if」勾选框会让整个模型去掉某个部分运行，"
                   "并把预测与 Swin 对比。"),
    "merging": dict(title="patch 合并与各个阶段", body=_merging,
                    notes=lambda n, r: "合并就是 Swin 的池化：像 CNN 一样形成层次结构，同样大小的"
                    "窗口在每个阶段看到图像中更大的部分。"),
    "last": dict(title=lambda n: "最后一个阶段：一个窗口，不移位" if n.last_fits
                 else "最后一个阶段", body=_last,
                 notes=lambda n, r: "参考代码检查 min(input_resolution) <= window_size，然后去掉"
                 "移位：已经没有需要连接的窗口了。"),
    "evidence": dict(title="注意力不等于解释", body=_evidence,
                     notes=lambda n, r: "Grad-CAM 问的是类别，注意力不问。在某个 block 的 norm1 "
                     "上取激活，每个通道按 logit 梯度的平均值加权，求和后保留正值。“类别证据”标签页"
                     "在每个阶段、对任何类别展示它。"),
    "v2": dict(title="Swin V2 在 block 中改变了什么", body=_v2,
               notes=lambda n, r: "运行 python -m swinviz figures IMAGE --arch swinv2-t 可以看到 "
               "Swin V2 的同一组图：它的代价表计入偏置 MLP 的参数，"
               + ("窗口、移位和掩码与本课相同。" if n.s
                  else "窗口与本课相同（这个阶段不移位，也没有掩码）。")),
    "table": dict(title="代价：论文的表 1", body=_table,
                  notes=lambda n, r: "这里的计数像参考代码的 flops() 一样累加每个 block、每次合并和"
                  "分类头；论文中的数字是四舍五入的。"),
}
