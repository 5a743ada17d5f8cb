"""The figures' words in Chinese (swinviz.figures._core.words): WORDS maps each English msgid
to its Chinese sentence with the same {fields}. Vocabulary as the lesson's (swinviz/lesson/lang/
zh.py): 窗口, 移位窗口, 循环移位, 区域 id, 掩码, 相对位置索引, 相对位置偏置, 注意力头, token, block;
W-MSA / SW-MSA, code names and formulas stay as they are."""

# ruff: noqa: E501  (one msgid and its sentence a line: long sentences stay whole)
from __future__ import annotations

WORDS: dict[str, str] = {
    ' (odd side padded first)':
        '（先填充奇数边）',
    ' (padded to {Hp}×{Wp})':
        '（填充到 {Hp}×{Wp}）',
    ' **Padding:** {what}.':
        ' **填充：**{what}。',
    ' = token ({r}, {c}) in window {w}':
        ' = token ({r}, {c})，在窗口 {w} 中',
    ' In Swin the later pairs run after patch merging, in stage {next}.':
        '在 Swin 中，之后的 block 对要经过 patch 合并，在第 {next} 阶段运行。',
    ' In Swin this is the last pair of the last stage (stage {stage}): no block follows it.':
        '在 Swin 中，这是最后一个阶段（第 {stage} 阶段）的最后一对 block：之后没有 block 了。',
    ' In Swin, stage {stage} has {more} more pairs after this one at this resolution (same windows, their own weights)':
        '在 Swin 中，第 {stage} 阶段在这一对之后、在同一分辨率上还有 {more} 对 block（窗口相同，权重各自不同）',
    ' Random weights: how much weight moves means nothing here; that it moves, and where, is the mechanics.':
        '随机权重：权重移动了多少在这里没有意义；它会移动、移向哪里，才是机制本身。',
    ' — no shift (s = 0): block 1 uses the same windows as block 0</sup>':
        ' —— 不移位（s = 0）：block 1 与 block 0 使用相同的窗口</sup>',
    ' — no shift: one window covers the whole grid</sup>':
        ' —— 不移位：一个窗口覆盖整个网格</sup>',
    '%{{text}} (%{{customdata[0]}}, %{{customdata[1]}})<br>region id %{{customdata[2]}}<br>window %{{customdata[3]}} of {b1}<extra>original position</extra>':
        '%{{text}} (%{{customdata[0]}}, %{{customdata[1]}})<br>区域 id %{{customdata[2]}}<br>{b1} 的窗口 %{{customdata[3]}}<extra>原始位置</extra>',
    '%{{text}} (%{{customdata[0]}}, %{{customdata[1]}})<br>window %{{customdata[2]}} in {b0}<br>window %{{customdata[3]}} in {b1}<br>region id %{{customdata[4]}}<extra></extra>':
        '%{{text}} (%{{customdata[0]}}, %{{customdata[1]}})<br>{b0} 中的窗口 %{{customdata[2]}}<br>{b1} 中的窗口 %{{customdata[3]}}<br>区域 id %{{customdata[4]}}<extra></extra>',
    '%{{y}}<br>Swin as it is: probability %{{x:.4f}}<extra></extra>':
        '%{{y}}<br>完整的 Swin：概率 %{{x:.4f}}<extra></extra>',
    '%{{y}}<br>class index %{{customdata}}<br>probability %{{x:.4f}}<extra></extra>':
        '%{{y}}<br>类别索引 %{{customdata}}<br>概率 %{{x:.4f}}<extra></extra>',
    "(a) One patch's attention in both blocks, on the image (the shift undone)":
        '(a) 一个 patch 在两个 block 中的注意力，画在图像上（移位已还原）',
    '(a) original position':
        '(a) 原始位置',
    "(a) original position, the paper's view:<br>window grid moved right and down by {s}":
        '(a) 原始位置，论文的视角：<br>窗口网格向右下移动 {s}',
    '(a) stage {s}: {H}×{W}<br><sup>tokens of {px} px, block {b}, norm1</sup>':
        '(a) 第 {s} 阶段：{H}×{W}<br><sup>每个 token {px} 像素，block {b}，norm1</sup>',
    '(a) window {w} ({kind}): dark = −100':
        '(a) 窗口 {w}（{kind}）：深色 = −100',
    "(a) window {w} ({kind}): dark = −100; yellow: the query's row":
        '(a) 窗口 {w}（{kind}）：深色 = −100；黄色：查询所在的行',
    '(a), (b) without the mask: nothing changes, since {why}: nothing is rolled round and there is no mask to leave out.':
        '(a)、(b) 去掉掩码：没有变化，因为{why}：没有东西被循环移过去，也没有可去掉的掩码。',
    '(a) {lead}: weight on other regions per window<br><sup>{b1}; most in window {w}: {pct}; windows of one region: 0</sup>':
        '(a) {lead}：每个窗口落在其他区域上的权重<br><sup>{b1}；最多的是窗口 {w}：{pct}；只含一个区域的窗口：0</sup>',
    "(b) Every head's attention row (softmax of {content} + bias + mask), {b}, token ({{row}}, {{col}}) = window {{window}}, slot {{slot}}":
        '(b) 每个注意力头的注意力行（softmax({content} + 偏置 + 掩码)），{b}，token ({{row}}, {{col}}) = 窗口 {{window}}，位置 {{slot}}',
    '(b) Taken apart: {b}, {head}, token ({{row}}, {{col}}) = window {{window}}, slot {{slot}}':
        '(b) 拆开来看：{b}，{head}，token ({{row}}, {{col}}) = 窗口 {{window}}，位置 {{slot}}',
    '(b) no roll (s = 0): the same picture':
        '(b) 不循环移位（s = 0）：同一张图',
    '(b) query ({r}, {c}), {who}: nothing leaks<br><sup>its window holds one region; a query in the last row or column of windows reads the far side</sup>':
        '(b) 查询 ({r}, {c})，{who}：没有泄漏<br><sup>它的窗口只含一个区域；最后一行或最后一列窗口中的查询才会读到另一侧</sup>',
    '(b) query ({r}, {c}), {who}: {pct} of its weight on keys from the far side<br><sup>outlined: keys rolled in from another region, no neighbours of it in the image: Swin masks them</sup>':
        '(b) 查询 ({r}, {c})，{who}：{pct} 的权重落在来自另一侧的键上<br><sup>描边：从另一个区域循环移入的键，在图像中并不与它相邻：Swin 会把它们掩盖</sup>',
    '(b) the code: pad to {Hp}×{Wp}, then torch.roll(x, ({ms}, {ms})):<br>patches moved up and left by {s}, regular windows':
        '(b) 代码：先填充到 {Hp}×{Wp}，再 torch.roll(x, ({ms}, {ms}))：<br>patch 向左上移动 {s}，窗口保持规则',
    '(b) the code: torch.roll(x, ({ms}, {ms})):<br>patches moved up and left by {s}, regular windows':
        '(b) 代码：torch.roll(x, ({ms}, {ms}))：<br>patch 向左上移动 {s}，窗口保持规则',
    '(b) {kind}: window {w}':
        '(b) {kind}：窗口 {w}',
    "(c) <b>Without the mask</b> the roll still brings pieces of the far side of the image into one window, and nothing keeps them apart: the largest weight a query of {block} puts on a key from another region (one Swin masks with −100) is <b>{leak}</b> (with the mask it stays below 1e-40), and its attention differs from attending inside the paper's {groups} windows by up to <b>{diff}</b>.":
        '(c) <b>没有掩码时</b>，循环移位仍会把图像另一侧的片段带进同一个窗口，却没有任何东西把它们分开：{block} 的查询落在其他区域的键（Swin 会用 −100 掩盖的键）上的最大权重是 <b>{leak}</b>（有掩码时低于 1e-40），它的注意力与只在论文的 {groups} 个窗口内计算注意力相比，最多相差 <b>{diff}</b>。',
    "(c) <b>−100 leaves weights below anything float32 can add</b> (they approach 0, they are not 0). {lead}'s probabilities from the trace, softmax(q·kᵀ + bias + mask), against a direct softmax of (q·kᵀ + bias) over ONLY the keys in the same irregular window of the unrolled map (the paper's {groups} windows, found from original positions alone): largest |difference| = <b>{diff}</b>; largest weight leaking through a −100 entry = <b>{leak}</b> (e<sup>−100</sup> ≈ 3.7e-44); the mask {agree} {nW}×{N}×{N} entries.":
        '(c) <b>−100 留下的权重小于 float32 能累加的任何值</b>（趋近于 0，但不等于 0）。把 {lead} 追踪到的概率 softmax(q·kᵀ + bias + mask)，与只在展开前图像上同一个不规则窗口（论文的 {groups} 个窗口，仅由原始位置求出）内的键上直接计算的 softmax(q·kᵀ + bias) 相比：最大 |差值| = <b>{diff}</b>；通过 −100 项泄漏的最大权重 = <b>{leak}</b>（e<sup>−100</sup> ≈ 3.7e-44）；掩码与这种分组{agree}（共 {nW}×{N}×{N} 项）。',
    '(c) Every head, window {{window}} of {b}: {N}×{N} attention (rows: queries), one colour scale':
        '(c) 每个注意力头，{b} 的窗口 {{window}}：{N}×{N} 注意力（行：查询），同一个色标',
    "(c) is the query's attention row: it says where token {q} reads in this block, for any class; attention is not explanation.":
        '(c) 是查询的注意力行：它说明 token {q} 在这个 block 中读取哪里，与类别无关；注意力并不是解释。',
    "(c) no shift: no key is masked; the trace's softmax equals a direct softmax inside each window (largest difference {diff})":
        '(c) 不移位：没有键被掩盖；追踪到的 softmax 等于在每个窗口内直接计算的 softmax（最大差值 {diff}）',
    '(c) query {q} reads<br><sup>{b1}, {who}</sup>':
        '(c) 查询 {q} 读取的位置<br><sup>{b1}，{who}</sup>',
    "(c) reach: {tokens} however many pairs<br><sup>no shift here: information never leaves the query's window</sup>":
        '(c) 影响范围：无论多少对都是 {tokens}<br><sup>这里不移位：信息永远离不开查询所在的窗口</sup>',
    '(c) reach: {tokens} however many pairs<br><sup>one {M}×{M} window covers the {H}×{W} grid: no shift is needed to reach every token</sup>':
        '(c) 影响范围：无论多少对都是 {tokens}<br><sup>一个 {M}×{M} 窗口覆盖整个 {H}×{W} 网格：不需要移位就能到达每个 token</sup>',
    "(c) without the shift the reach stays at {tokens}: the query's window<br><sup>with s = {s} it grows to {n} of {total} after {pairs} pairs (the same pair repeated; weights play no part)</sup>":
        '(c) 没有移位，影响范围停留在 {tokens}：查询所在的窗口<br><sup>移位 s = {s} 时，经过 {pairs} 对后增长到 {total} 个中的 {n} 个（重复同一对 block；与权重无关）</sup>',
    "(d) {b}, {who}, with the bias<br><sup>the bias is {share} of the logits' size on this row</sup>":
        '(d) {b}，{who}，有偏置<br><sup>在这一行上，偏置的大小是 logit 的 {share}</sup>',
    '(d) {b}, {who}: this model adds no bias<br><sup>so (d) = (e)</sup>':
        '(d) {b}，{who}：该模型不加偏置<br><sup>所以 (d) = (e)</sup>',
    '(e) without the bias<br><sup>{pct} of the weight moves to other keys: content alone, no notion of where a key sits</sup>':
        '(e) 去掉偏置<br><sup>{pct} 的权重移到其他键上：只剩内容，不知道键位于何处</sup>',
    '**Look for:** block {b1} does not shift ({no_shift}): both blocks see the same window and nothing is masked; only their learned weights differ.':
        '**注意看：** block {b1} 不移位（{no_shift}）：两个 block 看到同一个窗口，也没有掩码；只是它们学到的权重不同。',
    "**Look for:** block {b1}'s {nW} windows of {M}×{M} are block {b0}'s moved by s = {tokens_s}, so they straddle the borders of the regular ones: tokens that were separated in block {b0} share a window in block {b1}; along the bottom and right edges a shifted window is made of pieces from opposite sides of the image.":
        '**注意看：** block {b1} 的 {nW} 个 {M}×{M} 窗口是 block {b0} 的窗口移动 s = {tokens_s} 得到的，因此跨越了规则窗口的边界：在 block {b0} 中被分开的 token，在 block {b1} 中同处一个窗口；沿着下边缘和右边缘，一个移位窗口由图像相对两侧的片段组成。',
    '**Look for:** in block {b1} near the bottom or right edge, the tokens that wrapped around from the other side of the image are masked and get ~0 weight.':
        '**注意看：** 在 block {b1} 中靠近下边缘或右边缘的地方，从图像另一侧循环移过来的 token 被掩盖，权重约为 0。',
    '**Look for:** the shift is 0, so block {b1} cuts the same {nW} windows of {M}×{M} as block {b0}: no information crosses a window border in this pair.':
        '**注意看：** 移位为 0，所以 block {b1} 划分出与 block {b0} 相同的 {nW} 个 {M}×{M} 窗口：在这一对 block 中，没有信息跨越窗口边界。',
    '**Look for:** {no_shift}, so every token already attends to every other: both blocks use that one window and block {b1} does not shift (nothing needs shifting), as at stage 4 of Swin-T at 224 px.':
        '**注意看：** {no_shift}，所以每个 token 已经关注到所有其他 token：两个 block 都用这一个窗口，block {b1} 不移位（没有需要移位的），就像 Swin-T 在 224 像素下的第 4 阶段。',
    '**More figures** drawn from the same model run.':
        '**更多图**，来自同一次模型运行。',
    "**What you see:** every tensor shape on the way through one block for the current settings:\ntokens (B, L, C), the windows (nW·B, N, C), the heads (nW·B, nH, N, d), the attention\n(nW·B, nH, N, N) and back. **Look for:** where the window size (N = M·M) and the number of heads\nenter; only the window's tokens ever meet in one attention matrix.":
        '**你看到的：** 在当前设置下，经过一个 block 的每个张量形状：token (B, L, C)、窗口 (nW·B, N, C)、注意力头 (nW·B, nH, N, d)、注意力 (nW·B, nH, N, N)，以及反向还原。**注意看：** 窗口大小（N = M·M）和注意力头数在哪里进入；只有同一窗口内的 token 会在一个注意力矩阵中相遇。',
    "**What you see:** how block 1 builds its shifted windows. The code *rolls* the token map up and\nleft by the shift s (the strips at the top and left wrap around to the bottom and right) and then\ncuts the regular windows again. The 9 colours mark where each piece came from; the second picture\nnumbers these regions 0 to 8 (the reference code's `img_mask`). **Look for:** the paper draws\nthe windows moved right and down, the code moves the patches up and left: both give the same\ngroups. Windows at the bottom and right mix regions that are not neighbours in the image. The\nanimation plays both views one token of shift at a time, the region ids appearing as the pieces\nwrap.":
        '**你看到的：** block 1 如何构造移位窗口。代码把 token 图向左上*循环移位* s（顶部和左侧的条带绕到底部和右侧），然后再次划分规则窗口。9 种颜色标出每个片段来自哪里；第二张图把这些区域编号为 0 到 8（参考代码的 `img_mask`）。**注意看：** 论文把窗口画成向右下移动，代码把 patch 向左上移动：两者得到相同的分组。底部和右侧的窗口混合了在图像中并不相邻的区域。动画每次移位一个 token，同时播放两种视角，片段绕回时显示出区域 id。',
    "**What you see:** how block {b1} builds its shifted windows. The code *rolls* the {Hp}×{Wp} token map up and left by s = {tokens_s} (the strips at the top and left wrap around to the bottom and right) and then cuts the regular {M}×{M} windows again. The 9 colours mark where each piece came from; the second picture numbers these regions 0 to 8 (the reference code's `img_mask`). **Look for:** the paper draws the windows moved right and down, the code moves the tokens up and left: both give the same groups. Windows at the bottom and right mix regions that are not neighbours in the image. The animation plays both views one token of shift at a time, the region ids appearing as the pieces wrap.{padding}":
        '**你看到的：** block {b1} 如何构造移位窗口。代码把 {Hp}×{Wp} 的 token 图向左上*循环移位* s = {tokens_s}（顶部和左侧的条带绕到底部和右侧），然后再次划分规则的 {M}×{M} 窗口。9 种颜色标出每个片段来自哪里；第二张图把这些区域编号为 0 到 8（参考代码的 `img_mask`）。**注意看：** 论文把窗口画成向右下移动，代码把 token 向左上移动：两者得到相同的分组。底部和右侧的窗口混合了在图像中并不相邻的区域。动画每次移位一个 token，同时播放两种视角，片段绕回时显示出区域 id。{padding}',
    '**What you see:** no mask: block {b1} does not shift, because {no_shift}. No window holds pieces from opposite sides of the image, so nothing is added to its attention scores.{padding}':
        '**你看到的：** 没有掩码：block {b1} 不移位，因为{no_shift}。没有窗口包含图像相对两侧的片段，所以注意力分数上不加任何东西。{padding}',
    "**What you see:** nothing rolls here: block {b1} does not shift, because {no_shift}. Its windows are block {b0}'s, every window keeps its own tokens and every token is in region 0. **Look for:** the roll on a stage whose grid is larger than one window, with a shift above 0 (stage 1 of Swin-T: 56×56 tokens, shift 3).{padding}":
        '**你看到的：** 这里没有循环移位：block {b1} 不移位，因为{no_shift}。它的窗口就是 block {b0} 的窗口，每个窗口保留自己的 token，每个 token 都在区域 0。**注意看：** 在网格大于一个窗口、移位大于 0 的阶段上的循环移位（Swin-T 的第 1 阶段：56×56 个 token，移位 3）。{padding}',
    '**What you see:** the explored pair with one part left out at a time, same input: (a) how much\nweight each window of the shifted block would put on keys from another region without the −100\nmask, (b) which far-side keys the clicked query would read, (c) how far information reaches\nwith and without the shift, (d), (e) the query\'s attention with and without the relative position\nbias. **Look for:** a query in the last row or column of windows leaks; one in the middle does\nnot. To run the whole model without a part, tick it under "What if" and see the prediction\nchange.':
        '**你看到的：** 探索的这一对 block，每次去掉一个部分，输入相同：(a) 没有 −100 掩码时，移位 block 的每个窗口会把多少权重放在来自其他区域的键上；(b) 点击的查询会读取哪些来自另一侧的键；(c) 有移位和没有移位时信息能传多远；(d)、(e) 查询在有无相对位置偏置时的注意力。**注意看：** 最后一行或最后一列窗口中的查询会泄漏；中间的不会。要让整个模型去掉某个部分运行，在“What if”下勾选它，看看预测如何变化。',
    "**What you see:** the first table says, for every (query, key) pair of a window, which entry of\nthe learned bias table it uses: pairs with the same offset (rows apart, columns apart) share one\nentry. The second picture shows each head's learned bias over all offsets and the bias it adds\nto the scores of one window. **Look for:** the diagonal (offset 0, 0) always uses the centre\nentry; with random weights the bias is noise, pretrained heads prefer near or directional\noffsets.":
        '**你看到的：** 第一张表说明，对于窗口中的每一对（查询，键），它使用学到的偏置表中的哪一项：偏移相同（相隔的行数、列数相同）的对共用一项。第二张图显示每个注意力头在所有偏移上学到的偏置，以及它加到一个窗口的分数上的偏置。**注意看：** 对角线（偏移 0, 0）总是使用中心那一项；随机权重下偏置是噪声，预训练的注意力头偏好较近或特定方向的偏移。',
    '**What you see:** the five classes the whole model gives the highest probability, from its\nclassifier head after the last stage. **Look for:** with random weights the prediction means\nnothing (the badge says which weights are in use); with the pretrained Swin-T it names what the\nphoto shows.':
        '**你看到的：** 整个模型给出概率最高的五个类别，来自最后一个阶段之后的分类头。**注意看：** 随机权重下预测毫无意义（徽标显示正在使用哪种权重）；用预训练的 Swin-T 时，它说出照片中的内容。',
    '**What you see:** the learned parameters and the multiply-adds of this block pair (counted like\nthe reference code), windowed attention against global attention as the image grows, and the\ntime the model took on this device. **Look for:** global attention grows with the square of the\nnumber of patches, windowed attention only in proportion to it.':
        '**你看到的：** 这一对 block 学到的参数量和乘加次数（按参考代码的方式计数）、随着图像变大窗口注意力与全局注意力的对比，以及模型在这台设备上用的时间。**注意看：** 全局注意力随 patch 数的平方增长，窗口注意力只与它成正比。',
    '**What you see:** the mask block 1 adds to the attention scores of a window: 0 (light) where the\nquery patch and the key patch come from the same region, -100 (dark) where they do not; -100\nmakes their softmax weight practically 0. **Look for:** interior windows need no mask; a window\non the right edge splits into 2 groups, on the bottom edge into 2, in the corner into 4, so\nwrapped-around pieces never attend to each other.':
        '**你看到的：** block 1 加到一个窗口的注意力分数上的掩码：查询 patch 和键 patch 来自同一区域时为 0（浅色），否则为 -100（深色）；-100 使它们的 softmax 权重几乎为 0。**注意看：** 内部窗口不需要掩码；右边缘的窗口分成 2 组，下边缘的分成 2 组，角落的分成 4 组，因此绕回的片段永远不会相互关注。',
    '**What you see:** the mask block {b1} adds to the attention scores of a window: 0 (light) where the query token and the key token come from the same region, -100 (dark) where they do not; -100 makes their softmax weight practically 0. **Look for:** interior windows need no mask; a window on the right edge splits into 2 groups, on the bottom edge into 2, in the corner into 4, so wrapped-around pieces never attend to each other.{padding}':
        '**你看到的：** block {b1} 加到一个窗口的注意力分数上的掩码：查询 token 和键 token 来自同一区域时为 0（浅色），否则为 -100（深色）；-100 使它们的 softmax 权重几乎为 0。**注意看：** 内部窗口不需要掩码；右边缘的窗口分成 2 组，下边缘的分成 2 组，角落的分成 4 组，因此绕回的片段永远不会相互关注。{padding}',
    "**What you see:** where the model finds evidence for its top class (Grad-CAM: the block's\nactivations weighted by the gradient of that class's logit), at the last block of every stage,\nthen at three places inside the explored pair's second block (norm1, norm2, its output), and the\nclicked query's attention beside them. **Look for:** the deeper the stage, the coarser the map\n(its tokens cover more pixels); the three places inside one block need not agree; the attention\npanel moves with your click and never with the class.":
        '**你看到的：** 模型在哪里找到支持其最高类别的证据（Grad-CAM：block 的激活按该类别 logit 的梯度加权）：先在每个阶段的最后一个 block，再在探索的这一对的第二个 block 内部的三个位置（norm1、norm2、它的输出），旁边是点击的查询的注意力。**注意看：** 阶段越深，图越粗（它的 token 覆盖更多像素）；同一个 block 内的三个位置不一定一致；注意力那一栏随点击移动，与类别无关。',
    '**What you see:** where the query patch (yellow; click the image above to move it) looks. Top:\nits softmax weights over the patches of its window, in block 0 and in block 1, drawn on the image\nat their real positions (the shift undone). Middle: how its scores are built for the chosen\nblock and head: content (q·k) + relative position bias + mask, then softmax. Bottom: the whole\nattention matrix of its window for every head (one row per query patch; each row sums to 1).\n**Look for:** in block 1 near the bottom or right edge, the patches that wrapped around from the\nother side of the image are masked and get ~0 weight.':
        '**你看到的：** 查询 patch（黄色；点击上方的图像来移动它）看向哪里。上：它在窗口内各 patch 上的 softmax 权重，分别在 block 0 和 block 1 中，画在图像上的真实位置（移位已还原）。中：在所选 block 和注意力头中，它的分数如何构成：内容（q·k）+ 相对位置偏置 + 掩码，然后 softmax。下：它所在窗口对每个注意力头的完整注意力矩阵（每个查询 patch 一行；每行之和为 1）。**注意看：** 在 block 1 中靠近下边缘或右边缘的地方，从图像另一侧绕回的 patch 被掩盖，权重约为 0。',
    '**What you see:** where the query token (yellow; click the image above to move it) looks. Top: its softmax weights over the tokens of its window, in block {b0} and in block {b1}, drawn on the image at their real positions (the shift undone). Middle: how its scores are built for the chosen block and head: content (q·k) + relative position bias + mask, then softmax. Bottom: the whole attention matrix of its window for every head (one row per query token; each row sums to 1).':
        '**你看到的：** 查询 token（黄色；点击上方的图像来移动它）看向哪里。上：它在窗口内各 token 上的 softmax 权重，分别在 block {b0} 和 block {b1} 中，画在图像上的真实位置（移位已还原）。中：在所选 block 和注意力头中，它的分数如何构成：内容（q·k）+ 相对位置偏置 + 掩码，然后 softmax。下：它所在窗口对每个注意力头的完整注意力矩阵（每个查询 token 一行；每行之和为 1）。',
    '**What you see:** where the query token (yellow; click the image above to move it) looks. Top: its softmax weights over the tokens of its window, in block {b0} and in block {b1}, drawn on the image at their real positions. Middle: how its scores are built for the chosen block and head: content (q·k) + relative position bias, then softmax. Bottom: the whole attention matrix of its window for every head (one row per query token; each row sums to 1).':
        '**你看到的：** 查询 token（黄色；点击上方的图像来移动它）看向哪里。上：它在窗口内各 token 上的 softmax 权重，分别在 block {b0} 和 block {b1} 中，画在图像上的真实位置。中：在所选 block 和注意力头中，它的分数如何构成：内容（q·k）+ 相对位置偏置，然后 softmax。下：它所在窗口对每个注意力头的完整注意力矩阵（每个查询 token 一行；每行之和为 1）。',
    '**What you see:** which patches can influence the query patch: after block 0 only its own\nwindow; after block 1 usually parts of the neighbouring windows too (the shift bridges the\nborders); after more block pairs a growing area. The last panel is attention rollout: the\nattention of both blocks chained together, with the real weights. **Look for:** without the shift\nthe reach would never leave the first window. A patch in a corner gains nothing in block 1 (its\nshifted window only wraps around the image, and the mask blocks that): click a patch in the\nmiddle of the image to see the reach grow.':
        '**你看到的：** 哪些 patch 能影响查询 patch：block 0 之后只有它自己的窗口；block 1 之后通常还有相邻窗口的一部分（移位跨越了边界）；更多对 block 之后，范围不断扩大。最后一栏是注意力 rollout：两个 block 的注意力用真实权重串联起来。**注意看：** 没有移位，影响范围永远离不开第一个窗口。角落里的 patch 在 block 1 中什么也得不到（它的移位窗口只是绕过图像边缘，而掩码挡住了这些）：点击图像中间的 patch，看影响范围如何扩大。',
    '**What you see:** which tokens can influence the query token. Here one {M}×{M} window covers the whole {H}×{W} grid, so after block {b0} every token already reaches every other and block {b1} (no shift) adds nothing. The last panel is attention rollout: the attention of the blocks chained together, with the real weights. **Look for:** the reach the earlier stages built up before this one.':
        '**你看到的：** 哪些 token 能影响查询 token。这里一个 {M}×{M} 窗口覆盖整个 {H}×{W} 网格，所以在 block {b0} 之后，每个 token 已经能到达所有其他 token，block {b1}（不移位）不再增加什么。最后一栏是注意力 rollout：各个 block 的注意力用真实权重串联起来。**注意看：** 之前各阶段在此之前积累起来的影响范围。',
    '**What you see:** which tokens can influence the query token: after block {b0} only its own window, and block {b1} has the same windows (shift 0), so it adds nothing; the last panel is attention rollout, the attention of the blocks chained together, with the real weights. **Look for:** without the shift the reach never leaves the first window.':
        '**你看到的：** 哪些 token 能影响查询 token：block {b0} 之后只有它自己的窗口，block {b1} 的窗口相同（移位 0），所以没有增加什么；最后一栏是注意力 rollout，各个 block 的注意力用真实权重串联起来。**注意看：** 没有移位，影响范围永远离不开第一个窗口。',
    '**What you see:** which tokens can influence the query token: after block {b0} only its own window; after block {b1} usually parts of the neighbouring windows too (the shift by {s} bridges the borders); after more block pairs a growing area. The last panel is attention rollout: the attention of the blocks chained together, with the real weights. **Look for:** without the shift the reach would never leave the first window. A token in a corner gains nothing in block {b1} (its shifted window only wraps around the image, and the mask blocks that): click a token in the middle of the image to see the reach grow.':
        '**你看到的：** 哪些 token 能影响查询 token：block {b0} 之后只有它自己的窗口；block {b1} 之后通常还有相邻窗口的一部分（移位 {s} 跨越了边界）；更多对 block 之后，范围不断扩大。最后一栏是注意力 rollout：各个 block 的注意力用真实权重串联起来。**注意看：** 没有移位，影响范围永远离不开第一个窗口。角落里的 token 在 block {b1} 中什么也得不到（它的移位窗口只是绕过图像边缘，而掩码挡住了这些）：点击图像中间的 token，看影响范围如何扩大。',
    "**What you see:** your image cut into stage {stage}'s {H}×{W} tokens ({p}×{p} px each), with the windows of block {b0} (W-MSA) and of block {b1} (SW-MSA) drawn on it. Attention only ever happens between tokens of the same window.":
        '**你看到的：** 你的图像被切成第 {stage} 阶段的 {H}×{W} 个 token（每个 {p}×{p} 像素），上面画着 block {b0}（W-MSA）和 block {b1}（SW-MSA）的窗口。注意力只在同一窗口的 token 之间计算。',
    '**What you see:** your image with its patch grid, the regular windows of block 0 and the\nshifted windows of block 1, both drawn on the image itself. Attention only ever happens between\npatches of the same window. **Look for:** the shifted windows straddle the borders of the regular\nones, so patches that were separated in block 0 share a window in block 1; along the bottom and\nright edges a shifted window is made of pieces from opposite sides of the image.':
        '**你看到的：** 你的图像及其 patch 网格、block 0 的规则窗口和 block 1 的移位窗口，都直接画在图像上。注意力只在同一窗口的 patch 之间计算。**注意看：** 移位窗口跨越了规则窗口的边界，所以在 block 0 中被分开的 patch，在 block 1 中同处一个窗口；沿着下边缘和右边缘，一个移位窗口由图像相对两侧的片段组成。',
    '+ mask (0 / −100)':
        '+ 掩码 (0 / −100)',
    '+ mask<br><sup>none in W-MSA: adds 0</sup>':
        '+ 掩码<br><sup>W-MSA 中没有：加 0</sup>',
    '+ mask<br><sup>none without a shift: adds 0</sup>':
        '+ 掩码<br><sup>没有移位就没有：加 0</sup>',
    '+ mask<br><sup>removed (what if): adds 0</sup>':
        '+ 掩码<br><sup>已去掉（what if）：加 0</sup>',
    '+ relative position bias<br><sup>mean |·| = {{bias_mean}}</sup>':
        '+ 相对位置偏置<br><sup>平均 |·| = {{bias_mean}}</sup>',
    ', ':
        '；',
    '0 / −100 per window, broadcast as (1, nW, 1, N, N) over (B, nW, nH, N, N)':
        '每个窗口 0 / −100，以 (1, nW, 1, N, N) 广播到 (B, nW, nH, N, N)',
    '2×2 neighbours concatenated (4·{C}), LayerNorm, Linear to {C2}: {h}×{w} → {h2}×{w2}':
        '2×2 邻居拼接（4·{C}），LayerNorm，Linear 到 {C2}：{h}×{w} → {h2}×{w2}',
    ": the second block's grid is the first's moved right and down {moved}</sup><br><sup>A window that runs over the right or bottom edge wraps around to the left or top: its pieces share a number {tint}</sup>":
        '：第二个 block 的网格是第一个的网格向右下移动 {moved}</sup><br><sup>越过右边缘或下边缘的窗口会绕回左侧或顶部：它的各个片段共用一个编号{tint}</sup>',
    '; after them patch merging leads to stage {next}.':
        '；之后 patch 合并进入第 {next} 阶段。',
    '; it is the last stage.':
        '；这是最后一个阶段。',
    '<b>FLOPs formula</b>':
        '<b>FLOPs 公式</b>',
    '<b>FLOPs, per block</b>':
        '<b>FLOPs，每个 block</b>',
    '<b>No shift:</b> shift 0 was chosen, so the second block uses the same windows as the first and no information crosses a window border.':
        '<b>不移位：</b>选择了移位 0，所以第二个 block 与第一个使用相同的窗口，没有信息跨越窗口边界。',
    '<b>No shift</b> (shift_size = 0): {b1} uses the same {nW} regular windows as {b0}, so nothing is rolled round and no key needs masking; every query attends to all {N} keys of its window.':
        '<b>不移位</b>（shift_size = 0）：{b1} 与 {b0} 使用相同的 {nW} 个规则窗口，所以没有东西被循环移过去，也没有键需要掩盖；每个查询关注它窗口中的全部 {N} 个键。',
    '<b>Padding first:</b> {what}.':
        '<b>先填充：</b>{what}。',
    '<b>Padding first:</b> {what}. The ids are those of the padded {H}×{W} map; veiled cells are zero padding ({n} tokens).':
        '<b>先填充：</b>{what}。这些 id 属于填充后的 {H}×{W} 图；蒙上的格子是零填充（{n} 个 token）。',
    '<b>Padding first:</b> {what}; padding slots are marked × on the strips.':
        '<b>先填充：</b>{what}；填充的位置在色条上用 × 标出。',
    '<b>Padding first:</b> {what}; the roll moves the padding along.':
        '<b>先填充：</b>{what}；循环移位会带着填充一起移动。',
    '<b>Padding:</b> {what}.':
        '<b>填充：</b>{what}。',
    '<b>Random weights: this prediction is meaningless.</b> The classifier has learned nothing, so the classes and their probabilities are noise. {how}':
        '<b>随机权重：这个预测毫无意义。</b>分类器什么也没学到，所以这些类别和概率都是噪声。{how}',
    "<b>Removed in this model</b> (what if): {b1} rolls by s = {s} but adds no mask. Drawn is the mask Swin adds for these {H}×{W} tokens, M = {M}: every −100 entry is a key from another region that the query now reads. The colour strips are the region ids of the window's query (left) and key (top) slots.":
        '<b>该模型中已去掉</b>（what if）：{b1} 循环移位 s = {s}，但不加掩码。图中是 Swin 对这 {H}×{W} 个 token（M = {M}）会加的掩码：每个 −100 项都是来自其他区域、而查询现在会读取的键。色条是窗口中查询（左）和键（上）位置的区域 id。',
    '<b>Why no mask?</b> {why}: the block adds nothing to the scores.':
        '<b>为什么没有掩码？</b>{why}：这个 block 不给分数加任何东西。',
    '<b>Why no shift in stage {stage}?</b> The window covers the whole {H}×{W} grid: one window, every token already sees every other, nothing to shift.':
        '<b>为什么第 {stage} 阶段不移位？</b>窗口覆盖整个 {H}×{W} 网格：只有一个窗口，每个 token 已经能看到所有其他 token，没有需要移位的。',
    '<b>Why one window?</b> {why}.':
        '<b>为什么只有一个窗口？</b>{why}。',
    '<b>Why?</b> {why}.':
        '<b>为什么？</b>{why}。',
    '<b>code</b>':
        '<b>代码</b>',
    '<b>formula</b>':
        '<b>公式</b>',
    '<b>from</b>':
        '<b>来源</b>',
    '<b>heads</b>':
        '<b>注意力头</b>',
    '<b>module</b>':
        '<b>模块</b>',
    '<b>no shift:</b> {why}. Every id is 0 and the mask is all zeros.':
        '<b>不移位：</b>{why}。每个 id 都是 0，掩码全为 0。',
    '<b>one block ({b0} or {b1})</b>':
        '<b>一个 block（{b0} 或 {b1}）</b>',
    '<b>parameters, per block</b>':
        '<b>参数量，每个 block</b>',
    '<b>parameters</b>':
        '<b>参数量</b>',
    '<b>part</b>':
        '<b>部分</b>',
    '<b>shape (weight + bias)</b>':
        '<b>形状（权重 + 偏置）</b>',
    '<b>shape</b>':
        '<b>形状</b>',
    '<b>step</b>':
        '<b>步骤</b>',
    '<b>symbols</b>':
        '<b>符号</b>',
    '<b>tokens</b>':
        '<b>token 网格</b>',
    '<b>total</b>':
        '<b>合计</b>',
    '<b>what it does</b>':
        '<b>作用</b>',
    '<b>window / shift</b>':
        '<b>窗口 / 移位</b>',
    '<br>(key above → Δh > 0)':
        '<br>（键在上方 → Δh > 0）',
    '<br>(key to the left → Δw > 0)':
        '<br>（键在左侧 → Δw > 0）',
    '<br>(padded to {Hp}×{Wp})':
        '<br>（填充到 {Hp}×{Wp}）',
    '<br><sup>no shift: the mask is all zeros, nothing is masked</sup>':
        '<br><sup>不移位：掩码全为 0，没有东西被掩盖</sup>',
    '<br><sup>query i may attend to key j only when both have the same region id (mask 0), otherwise −100. The colour strips along the axes are the region ids of the query (left) and key (top) slots.</sup>':
        '<br><sup>只有当查询 i 和键 j 的区域 id 相同时（掩码 0），i 才能关注 j，否则为 −100。沿坐标轴的色条是查询（左）和键（上）位置的区域 id。</sup>',
    '<br><sup>{H}×{W} tokens, M = {M}, s = 0 — no shift: one window covers the whole grid.</sup>':
        '<br><sup>{H}×{W} 个 token，M = {M}，s = 0 —— 不移位：一个窗口覆盖整个网格。</sup>',
    '<br><sup>{H}×{W} tokens, M = {M}, s = 0: no shift (s = 0): {b1} uses the same windows as {b0}</sup>':
        '<br><sup>{H}×{W} 个 token，M = {M}，s = 0：不移位（s = 0）：{b1} 与 {b0} 使用相同的窗口</sup>',
    '<br>With random weights the table is noise; load trained weights to see real preferences.':
        '<br>随机权重下这张表是噪声；加载训练好的权重才能看到真正的偏好。',
    "<span style='color:{c4}'><b>W-MSA</b></span> vs <span style='color:{c5}'><b>global MSA</b></span>, one block<br><sup>×: how much more global attention would cost</sup>":
        "<span style='color:{c4}'><b>W-MSA</b></span> 对比 <span style='color:{c5}'><b>全局 MSA</b></span>，一个 block<br><sup>×：全局注意力要多花多少倍</sup>",
    '= softmax → attention':
        '= softmax → 注意力',
    'Attention mask of window {w} ({kind}) for a {H}×{W} grid, M = {M}, s = {s} (swinviz.windows.attention_mask)':
        '{H}×{W} 网格中窗口 {w}（{kind}）的注意力掩码，M = {M}，s = {s}（swinviz.windows.attention_mask）',
    'Attention mask of window {w} ({kind}) in {b1}, stage {stage}':
        '{b1} 中窗口 {w}（{kind}）的注意力掩码，第 {stage} 阶段',
    'Attention mask of window {w} ({kind}) in {b1}, stage {stage}: removed':
        '{b1} 中窗口 {w}（{kind}）的注意力掩码，第 {stage} 阶段：已去掉',
    'Attention mask of window {w} in {b1}, stage {stage}: none<br><sup>no shift (shift_size = 0): the mask is all zeros, nothing is masked.</sup>':
        '{b1} 中窗口 {w} 的注意力掩码，第 {stage} 阶段：没有<br><sup>不移位（shift_size = 0）：掩码全为 0，没有东西被掩盖。</sup>',
    'Attention mask of {b1}, stage {stage}: none<br><sup>no shift: one window covers the whole grid; the mask is all zeros, nothing is masked.</sup>':
        '{b1} 的注意力掩码，第 {stage} 阶段：没有<br><sup>不移位：一个窗口覆盖整个网格；掩码全为 0，没有东西被掩盖。</sup>',
    'Because {why}.':
        '因为{why}。',
    "Blue rows: shapes read from the trace's tensors; the others follow from the settings; orange: inside the window attention.":
        '蓝色行：从追踪的张量读出的形状；其余由设置推出；橙色：窗口注意力内部。',
    'Class evidence for “{name}” ({p}), {arch}: Grad-CAM at every stage and inside block {b} of stage {s}':
        '“{name}”的类别证据（{p}），{arch}：每个阶段以及第 {s} 阶段 block {b} 内部的 Grad-CAM',
    'Class evidence: none for {where}':
        '类别证据：{where} 没有',
    'Cost of {arch}, stage by stage (explored: {where})':
        '{arch} 的计算代价，逐阶段（探索的是：{where}）',
    'Cyclic shift of {b1} (stage {stage}): none in this block':
        '{b1} 的循环移位（第 {stage} 阶段）：这个 block 中没有',
    'Cyclic shift of {b1} (stage {stage}): the 9 regions before and after the roll':
        '{b1} 的循环移位（第 {stage} 阶段）：循环移位前后的 9 个区域',
    'DISAGREES with that grouping on {n} of the':
        '有 {n} 项不一致',
    "Each panel is the pair's own tensors with one term left out (same input): (a), (b) the mask, (c) the shift, (d), (e) the bias.":
        '每一栏都是这一对 block 自己的张量，只去掉一项（输入相同）：(a)、(b) 掩码，(c) 移位，(d)、(e) 偏置。',
    "FLOPs are multiply-adds, counted the way the reference's flops() counts them: the patch embedding, every block (norms, window attention, MLP), every patch merge, the final norm and the head. MSA / W-MSA count only the attention part of one block (the paper's Ω).":
        'FLOPs 指乘加次数，按参考代码的 flops() 计数：patch 嵌入、每个 block（norm、窗口注意力、MLP）、每次 patch 合并、最后的 norm 和分类头。MSA / W-MSA 只计一个 block 中的注意力部分（论文的 Ω）。',
    'FLOPs per stage<br><sup>total {n}</sup>':
        '每个阶段的 FLOPs<br><sup>合计 {n}</sup>',
    'For a real prediction load pretrained weights: weights "hub" (timm\'s ImageNet-1k weights for this architecture from the Hugging Face Hub: load_model("hub"), --weights hub on the command line, "pretrained" in the app) or a checkpoint file you have (load_model("path/to/checkpoint.pth"), --weights FILE).':
        '要得到真正的预测，请加载预训练权重：权重 "hub"（timm 为该架构在 Hugging Face Hub 上提供的 ImageNet-1k 权重：load_model("hub")，命令行 --weights hub，页面中选 "pretrained"），或你自己的检查点文件（load_model("path/to/checkpoint.pth")，--weights FILE）。',
    'Grad-CAM: ReLU(Σc αc·Ac) per token, A the activation, αc the mean over tokens of ∂ logit[{name}] / ∂Ac; each map is scaled to its own largest value.':
        'Grad-CAM：每个 token 上的 ReLU(Σc αc·Ac)，A 是激活，αc 是 ∂ logit[{name}] / ∂Ac 在各 token 上的平均；每张图按它自己的最大值缩放。',
    'Hatched: zero padding ({H}×{W} for {Hr}×{Wr} tokens): the block pads before it rolls, and queries attend to the padding keys too.':
        '斜线：零填充（{Hr}×{Wr} 个 token 填充为 {H}×{W}）：block 先填充再循环移位，查询也会关注填充的键。',
    "Hover a key for its token (r, c), window, region id and probability. In (b) and (c) slots are numbered in the block's own (rolled) window frame; hover shows the real token.":
        '把鼠标悬停在键上，可看到它的 token (r, c)、窗口、区域 id 和概率。(b) 和 (c) 中的位置按 block 自己（循环移位后）的窗口编号；悬停显示真实的 token。',
    "In Swin V2 norm1 normalises the attention's output before it is added to the residual stream, norm2 the MLP's output; output is the block's result.":
        '在 Swin V2 中，norm1 先归一化注意力的输出再加回残差流，norm2 归一化 MLP 的输出；output 是 block 的结果。',
    'Information flow into token ({r}, {c}), {where}: reach and attention rollout':
        '流入 token ({r}, {c}) 的信息，{where}：影响范围与注意力 rollout',
    'L = {H}·{W} = {L} tokens in row-major order, LayerNorm':
        'L = {H}·{W} = {L} 个 token，按行优先排列，LayerNorm',
    'MLP hidden layer, ratio {r}':
        'MLP 隐藏层，比例 {r}',
    'Measured forward time on {device}, one run for this image (rough): {times}.':
        '在 {device} 上实测的前向时间，这张图运行一次（粗略）：{times}。',
    'N = {M}·{M} = {N} tokens per window':
        'N = {M}·{M} = {N}，每个窗口的 token 数',
    'Pair 2 shows what repeating this same pair at this resolution would do (reach depends on windows and masks only).':
        '第 2 对显示在这个分辨率上重复同一对 block 会怎样（影响范围只取决于窗口和掩码）。',
    'Pairs 2–{k} show what repeating this same pair at this resolution would do (reach depends on windows and masks only).':
        '第 2–{k} 对显示在这个分辨率上重复同一对 block 会怎样（影响范围只取决于窗口和掩码）。',
    'Pairs with the same offset (Δh, Δw) read the same row of the {GG}-row bias table (one bias per head).<br>The index numbers the {G}×{G} offsets row by row; the red cell is Δ = (0, 0), the query itself.':
        '偏移 (Δh, Δw) 相同的对读取 {GG} 行偏置表中的同一行（每个注意力头一个偏置）。<br>索引把 {G}×{G} 个偏移逐行编号；红色格子是 Δ = (0, 0)，即查询自己。',
    'Parameters per stage<br><sup>total {n}</sup>':
        '每个阶段的参数量<br><sup>合计 {n}</sup>',
    'Per head: the table over the offsets (Δh down, Δw across, Δ = (0, 0) in the centre),<br>and the gathered N×N bias (query rows, key columns); hover for the values.<br>':
        '每个注意力头：偏移上的表（Δh 向下，Δw 向右，Δ = (0, 0) 在中心），<br>以及收集得到的 N×N 偏置（行是查询，列是键）；悬停查看数值。<br>',
    'Per head: the table over the offsets (Δh down, Δw across, Δ = (0, 0) in the centre),<br>and the gathered N×N bias (query rows, key columns); values from {lo} (bluest) to {hi} (reddest).<br>':
        '每个注意力头：偏移上的表（Δh 向下，Δw 向右，Δ = (0, 0) 在中心），<br>以及收集得到的 N×N 偏置（行是查询，列是键）；数值从 {lo}（最蓝）到 {hi}（最红）。<br>',
    'Prediction without {gone} (what if) against Swin as it is, {arch}':
        '去掉{gone}的预测（what if）对比完整的 Swin，{arch}',
    'Prediction: none — {arch} has no classifier head':
        '预测：没有 —— {arch} 没有分类头',
    'Prediction: the top-5 ImageNet classes of {arch}':
        '预测：{arch} 的前 5 个 ImageNet 类别',
    "Random weights: these maps show how an untrained model's gradient spreads, not evidence it learned.":
        '随机权重：这些图显示的是未训练模型的梯度如何扩散，而不是它学到的证据。',
    'Reach: the input patches that can influence token ({r}, {c}) of stage {stage}, from window membership and masks only (weights ignored); colour = the step at which a patch joins; grid: the {M}×{M} windows of {b0}.':
        '影响范围：能影响第 {stage} 阶段 token ({r}, {c}) 的输入 patch，只由窗口归属和掩码决定（不考虑权重）；颜色 = patch 加入的那一步；网格：{b0} 的 {M}×{M} 窗口。',
    'Region ids (img_mask) of {b1}, stage {stage}<br><sup>{H}×{W} tokens, window M = {M}, shift s = {s}</sup>':
        '{b1} 的区域 id（img_mask），第 {stage} 阶段<br><sup>{H}×{W} 个 token，窗口 M = {M}，移位 s = {s}</sup>',
    'Region ids for a {H}×{W} token grid, window M = {M}, shift s = {s} (swinviz.windows.region_ids)':
        '{H}×{W} token 网格的区域 id，窗口 M = {M}，移位 s = {s}（swinviz.windows.region_ids）',
    'Relative position index for a {M}×{M} window (N = {N})':
        '{M}×{M} 窗口的相对位置索引（N = {N}）',
    'Relative position index, {b}, stage {stage}, M = {M}<br><sup>which bias-table row each (query, key) pair reads</sup>':
        '相对位置索引，{b}，第 {stage} 阶段，M = {M}<br><sup>每一对（查询，键）读取偏置表的哪一行</sup>',
    "Rollout (Abnar & Zuidema): a row vector v starts at the query and goes back through every block from {b1} of stage {stage} to block {b} of stage {first}: v ← 0.5·vA + 0.5·v (A = the block's head-mean attention in original positions, the shift undone; the residual as 0.5·I); across a patch merge a merged token's weight is spread equally over its 2×2 children.":
        'Rollout（Abnar & Zuidema）：一个行向量 v 从查询出发，反向经过从第 {stage} 阶段的 {b1} 到第 {first} 阶段 block {b} 的每个 block：v ← 0.5·vA + 0.5·v（A 是该 block 在原始位置上对各注意力头平均的注意力，移位已还原；残差记为 0.5·I）；经过 patch 合并时，合并后 token 的权重平均分给它的 2×2 个子 token。',
    "Rollout (Abnar & Zuidema): a row vector v starts at the query and goes back through every block from {b1} of stage {stage} to stage 1, block 0: v ← 0.5·vA + 0.5·v (A = the block's head-mean attention in original positions, the shift undone; the residual as 0.5·I); across a patch merge a merged token's weight is spread equally over its 2×2 children.":
        'Rollout（Abnar & Zuidema）：一个行向量 v 从查询出发，反向经过从第 {stage} 阶段的 {b1} 到第 1 阶段 block 0 的每个 block：v ← 0.5·vA + 0.5·v（A 是该 block 在原始位置上对各注意力头平均的注意力，移位已还原；残差记为 0.5·I）；经过 patch 合并时，合并后 token 的权重平均分给它的 2×2 个子 token。',
    "Softmax of the classifier's logits after the last stage, the final norm and the average over tokens; the bars are the probabilities.":
        '分类器 logit 的 softmax，位于最后一个阶段、最后的 norm 和 token 平均之后；条形是概率。',
    "Stage {s}'s map has {H}×{W} cells of {p}×{p} pixels, so it cannot be finer than that; stage 1's has {H1}×{W1} cells of {p1} px.":
        '第 {s} 阶段的图有 {H}×{W} 个格子，每格 {p}×{p} 像素，所以不可能比这更细；第 1 阶段的有 {H1}×{W1} 个格子，每格 {p1} 像素。',
    "Star: the query. Outline: its window in each block (the shifted block's may wrap around the edges of the image). {masked}{said}":
        '星号：查询。描边：它在每个 block 中的窗口（移位 block 的窗口可能绕过图像边缘）。{masked}{said}',
    "Strongest key ({head}): {facts}. In (b) and (c) slots are numbered in the block's own (rolled) window frame: slot k of window w = (wr, wc) is token ((wr·{M} + k // {M} + {s}) mod {H}, (wc·{M} + k mod {M} + {s}) mod {W}); the query, token ({r}, {c}), is slot {k} of window {w}.":
        '最强的键（{head}）：{facts}。(b) 和 (c) 中的位置按 block 自己（循环移位后）的窗口编号：窗口 w = (wr, wc) 的位置 k 是 token ((wr·{M} + k // {M} + {s}) mod {H}, (wc·{M} + k mod {M} + {s}) mod {W})；查询 token ({r}, {c}) 是窗口 {w} 的位置 {k}。',
    'Swin as it is':
        '完整的 Swin',
    'Tensor shapes through {b}, stage {stage}':
        '经过 {b} 的张量形状，第 {stage} 阶段',
    "The pair's second block adds nothing for this patch: every key {b1} lets it see (same region id) was already in its first window.":
        '这一对的第二个 block 对这个 patch 没有增加什么：{b1} 让它看到的每个键（区域 id 相同）都已在它的第一个窗口中。',
    "The pair's second block adds nothing for this patch: every key {b1} lets it see (same region id) was already in its first window; the keys that wrapped around the edge are masked.":
        '这一对的第二个 block 对这个 patch 没有增加什么：{b1} 让它看到的每个键（区域 id 相同）都已在它的第一个窗口中；从边缘绕回的键被掩盖。',
    "The pair's second block adds nothing for this patch: with no shift (s = 0) {b1} uses the same windows as {b0} (one window covers the whole grid, so no mask).":
        '这一对的第二个 block 对这个 patch 没有增加什么：不移位（s = 0）时，{b1} 与 {b0} 使用相同的窗口（一个窗口覆盖整个网格，所以没有掩码）。',
    "The pair's second block adds nothing for this patch: with no shift (s = 0) {b1} uses the same windows as {b0}.":
        '这一对的第二个 block 对这个 patch 没有增加什么：不移位（s = 0）时，{b1} 与 {b0} 使用相同的窗口。',
    'The paper moves the window grid right and down by s = {s}; the code rolls the patches up and left by {s} and keeps the grid. Same colour = same region id. Inside a window only patches of one region attend to each other: both pictures make the same groups.':
        '论文把窗口网格向右下移动 s = {s}；代码把 patch 向左上循环移位 {s}，网格不动。颜色相同 = 区域 id 相同。在一个窗口内，只有同一区域的 patch 相互关注：两张图得到相同的分组。',
    "The query's own cells (its residual weight) are off the colour scale; weights below 1e-12 (only via masked keys) are left clear.":
        '查询自身的格子（它的残差权重）超出色标范围；低于 1e-12 的权重（只经由被掩盖的键）留空。',
    'The whole model at {px} px: {p} parameters, {f} FLOPs (◀ the explored stage)':
        '整个模型，{px} 像素：{p} 参数，{f} FLOPs（◀ 探索的阶段）',
    'The {H}×{W} grid is padded to {Hp}×{Wp} inside each block: the zero tokens carry nothing, so reach and rollout leave them out (weight a query gives them leaves the picture).':
        '{H}×{W} 网格在每个 block 内被填充到 {Hp}×{Wp}：零 token 不携带任何信息，所以影响范围和 rollout 不包含它们（查询分给它们的权重不在图中）。',
    'This model was built without a classifier (num_classes = 0): it ends with the final norm and gives features, not classes, so there is nothing to predict.':
        '这个模型构建时没有分类器（num_classes = 0）：它以最后的 norm 结束，输出特征而不是类别，所以没有可预测的。',
    'Weights: {w}.':
        '权重：{w}。',
    'Weights: {w}. Every block leaves out {gone}: {verdict}; KL(Swin ‖ without) = {kl} nats over all {n} classes.':
        '权重：{w}。每个 block 都去掉了{gone}：{verdict}；在全部 {n} 个类别上 KL(Swin ‖ without) = {kl} nats。',
    'Where token ({{row}}, {{col}}) attends, {head}<br><sup>stage {stage}: {b0} and {b1}</sup>':
        'token ({{row}}, {{col}}) 关注哪里，{head}<br><sup>第 {stage} 阶段：{b0} 和 {b1}</sup>',
    'White × = key masked with −100 (another region before the roll): weight ~0. ':
        '白色 × = 被 −100 掩盖的键（循环移位前属于另一个区域）：权重约为 0。',
    'Why each part: stage {stage}, pair {pair} without its mask, its shift and its bias':
        '为什么需要每个部分：第 {stage} 阶段第 {pair} 对，去掉它的掩码、移位和偏置',
    'Windows on the image: stage {stage}, {b0} and {b1}<br><sup>{H}×{W} patches of {p}×{p} px, window M = {M}, shift s = {s}':
        '图像上的窗口：第 {stage} 阶段，{b0} 和 {b1}<br><sup>{H}×{W} 个 {p}×{p} 像素的 patch，窗口 M = {M}，移位 s = {s}',
    'a flat map':
        '一张平坦的图',
    'a sequence again':
        '重新变回序列',
    'after the pair (to the logits)':
        '这一对之后（到 logit）',
    'after {b}':
        '{b} 之后',
    'after {b} (1 pair)':
        '{b} 之后（1 对）',
    'all heads':
        '所有注意力头',
    'and a tint.':
        '和颜色。',
    'attention':
        '注意力',
    "attention %{{z:.2f}} of the row's largest weight<extra></extra>":
        '注意力为该行最大权重的 %{{z:.2f}}<extra></extra>',
    'attention weights: each row sums to 1':
        '注意力权重：每行之和为 1',
    'beyond the image (a patch merge padded an odd side)':
        '图像之外（patch 合并填充了奇数边）',
    'bias':
        '偏置',
    'block {n} (SW-MSA)':
        'block {n}（SW-MSA）',
    'block {n} (W-MSA)':
        'block {n}（W-MSA）',
    'block {n} (W-MSA, shift 0)':
        'block {n}（W-MSA，移位 0）',
    'blocks 0–{b}':
        'block 0–{b}',
    'bottom edge':
        '下边缘',
    'by {s} patches.':
        '{s} 个 patch。',
    'chance: 1/{n}':
        '随机水平：1/{n}',
    'class {n}':
        '类别 {n}',
    'column (token)':
        '列（token）',
    'column j of the rolled map':
        '循环移位后图的第 j 列',
    'content logits: every query against every key of its window':
        '内容 logit：每个查询对其窗口中的每个键',
    'corner':
        '角落',
    'cut into nW = {a}·{b} = {nW} windows of {M}×{M}':
        '切成 nW = {a}·{b} = {nW} 个 {M}×{M} 窗口',
    'cyclic shift: patches move up and left by s = {s}':
        '循环移位：patch 向左上移动 s = {s}',
    'darker: zero padding ({n} tokens)':
        '较深：零填充（{n} 个 token）',
    'each axis is cut into [0, {a}), [{a}, {b}), [{b}, {H}) (i.e. [0, H−M), [H−M, H−s), [H−s, H)); ids 0..8 row by row. Inside a window, a query and a key with different ids get −100 in the mask.':
        '每个轴被切成 [0, {a})、[{a}, {b})、[{b}, {H})（即 [0, H−M)、[H−M, H−s)、[H−s, H)）；id 0..8 逐行编号。在一个窗口内，区域 id 不同的查询和键在掩码中得到 −100。',
    'each {p}×{p} patch becomes C = {C} numbers':
        '每个 {p}×{p} 的 patch 变成 C = {C} 个数',
    'embed':
        '嵌入',
    'every patch back in its original place':
        '每个 patch 回到原来的位置',
    'final norm':
        '最后的 norm',
    'first residual':
        '第一个残差',
    'flattened per window: {nW} windows × {N} slots':
        '按窗口展平：{nW} 个窗口 × {N} 个位置',
    'global MSA':
        '全局 MSA',
    'head %{{customdata[0]}}<br>query slot %{{customdata[1]}} = token (%{{customdata[2]}}, %{{customdata[3]}})<br>key slot %{{customdata[4]}} = token (%{{customdata[5]}}, %{{customdata[6]}})<br>p = %{{z:.3g}}<extra></extra>':
        '注意力头 %{{customdata[0]}}<br>查询位置 %{{customdata[1]}} = token (%{{customdata[2]}}, %{{customdata[3]}})<br>键位置 %{{customdata[4]}} = token (%{{customdata[5]}}, %{{customdata[6]}})<br>p = %{{z:.3g}}<extra></extra>',
    'head %{{customdata[0]}}<br>slot (%{{customdata[1]}}, %{{customdata[2]}}) = token (%{{customdata[3]}}, %{{customdata[4]}})<br>region id %{{customdata[5]}}<br>p = %{{z:.4g}}<extra></extra>':
        '注意力头 %{{customdata[0]}}<br>位置 (%{{customdata[1]}}, %{{customdata[2]}}) = token (%{{customdata[3]}}, %{{customdata[4]}})<br>区域 id %{{customdata[5]}}<br>p = %{{z:.4g}}<extra></extra>',
    'head ({n} classes)':
        '分类头（{n} 个类别）',
    'head mean':
        '注意力头平均',
    'head {h}':
        '注意力头 {h}',
    'head {h}: bias table over (Δh, Δw)<br><sup>':
        '注意力头 {h}：(Δh, Δw) 上的偏置表<br><sup>',
    'head {h}: gathered bias, {N}×{N}<br><sup>what the block adds to {content}</sup>':
        '注意力头 {h}：收集得到的偏置，{N}×{N}<br><sup>block 加到 {content} 上的值</sup>',
    'head {h}: p':
        '注意力头 {h}：p',
    'head {h}: table':
        '注意力头 {h}：表',
    'head {h}: {N}×{N}':
        '注意力头 {h}：{N}×{N}',
    'head {h}<br>query i = %{{y}} = (%{{customdata[0]}},%{{customdata[1]}})<br>key j = %{{x}} = (%{{customdata[2]}},%{{customdata[3]}})<br>Δ = (%{{customdata[4]}}, %{{customdata[5]}})<br>bias = %{{z:.4f}}<extra></extra>':
        '注意力头 {h}<br>查询 i = %{{y}} = (%{{customdata[0]}},%{{customdata[1]}})<br>键 j = %{{x}} = (%{{customdata[2]}},%{{customdata[3]}})<br>Δ = (%{{customdata[4]}}, %{{customdata[5]}})<br>偏置 = %{{z:.4f}}<extra></extra>',
    'head {h}<br>query slot %{{y}} = token (%{{customdata[0]}}, %{{customdata[1]}})<br>key slot %{{x}} = token (%{{customdata[2]}}, %{{customdata[3]}})<br>p = %{{z:.3g}}<extra></extra>':
        '注意力头 {h}<br>查询位置 %{{y}} = token (%{{customdata[0]}}, %{{customdata[1]}})<br>键位置 %{{x}} = token (%{{customdata[2]}}, %{{customdata[3]}})<br>p = %{{z:.3g}}<extra></extra>',
    'head {h}<br>Δ = (%{{customdata[0]}}, %{{customdata[1]}})<br>table row %{{customdata[2]}}<br>bias = %{{z:.4f}}<extra></extra>':
        '注意力头 {h}<br>Δ = (%{{customdata[0]}}, %{{customdata[1]}})<br>表的第 %{{customdata[2]}} 行<br>偏置 = %{{z:.4f}}<extra></extra>',
    'heads side by side again':
        '各注意力头重新并排',
    'image':
        '图像',
    'in {b} token ({r}, {c}), p = {p}':
        '{b} 中的 token ({r}, {c})，p = {p}',
    'interior':
        '内部',
    'its shift is set to 0':
        '它的移位被设为 0',
    'keep x for the residual; LayerNorm over C':
        '保留 x 用于残差；在 C 上做 LayerNorm',
    'key (%{{y}}, %{{x}}): weight %{{z:.3f}}<extra></extra>':
        '键 (%{{y}}, %{{x}})：权重 %{{z:.3f}}<extra></extra>',
    'key j = (hj, wj)':
        '键 j = (hj, wj)',
    'key slot':
        '键位置',
    'key slot %{{x}}: region id %{{z}}<extra></extra>':
        '键位置 %{{x}}：区域 id %{{z}}<extra></extra>',
    "key slot (%{{y}}, %{{x}}): weight %{{z:.3f}}; the bias is %{{customdata:.0%}} of this logit's size<extra></extra>":
        '键位置 (%{{y}}, %{{x}})：权重 %{{z:.3f}}；偏置是这个 logit 大小的 %{{customdata:.0%}}<extra></extra>',
    'key slot column':
        '键位置的列',
    'key slot j':
        '键位置 j',
    'key slot row':
        '键位置的行',
    'mask':
        '掩码',
    'matches that grouping on all':
        '完全一致',
    'max at Δ = {hi}, min at {lo};<br>near − far = {diff}: {lean}':
        '最大值在 Δ = {hi}，最小值在 {lo}；<br>近 − 远 = {diff}：{lean}',
    'mean of the tokens':
        'token 的平均',
    'mean over heads':
        '各注意力头的平均',
    'mix the heads':
        '混合各注意力头',
    'multiply-adds (log)':
        '乘加次数（对数）',
    'no class evidence':
        '没有类别证据',
    'no classifier head: no prediction':
        '没有分类头：没有预测',
    'no clear near/far lean':
        '没有明显的远近偏好',
    'no mask (s = 0)':
        '没有掩码（s = 0）',
    'no padding: {H}×{W} splits into whole {M}×{M} windows':
        '不填充：{H}×{W} 正好分成完整的 {M}×{M} 窗口',
    'no shift':
        '不移位',
    'no shift (one window covers the grid)':
        '不移位（一个窗口覆盖网格）',
    'no shift (one window covers the whole grid): every id is 0 and the mask is all zeros':
        '不移位（一个窗口覆盖整个网格）：每个 id 都是 0，掩码全为 0',
    'no shift (s = 0)':
        '不移位（s = 0）',
    'no shift (shift_size = 0, regular windows): every id is 0 and the mask is all zeros':
        '不移位（shift_size = 0，规则窗口）：每个 id 都是 0，掩码全为 0',
    "norm1 is the block's input after its first LayerNorm (what attention reads), norm2 the stream after attention, normalised (what the MLP reads), output the block's result after the MLP.":
        'norm1 是 block 的输入经过第一个 LayerNorm 之后（注意力读取的内容），norm2 是注意力之后的流再归一化（MLP 读取的内容），output 是 MLP 之后 block 的结果。',
    'norm<br>+ head':
        'norm<br>+ 分类头',
    'one window covers the grid':
        '一个窗口覆盖网格',
    'one {M}×{M} window covers the whole {H}×{W} grid (docs/concepts.md, fact 2)':
        '一个 {M}×{M} 窗口覆盖整个 {H}×{W} 网格（docs/concepts.md，事实 2）',
    'one {M}×{M} window covers the whole {H}×{W} grid (min(H, W) ≤ M), so every token already sees every other: there is nothing to shift and no mask is needed':
        '一个 {M}×{M} 窗口覆盖整个 {H}×{W} 网格（min(H, W) ≤ M），所以每个 token 已经能看到所有其他 token：没有需要移位的，也不需要掩码',
    'output of {b}':
        '{b} 的输出',
    'pad':
        '填充',
    'pair {i}':
        '第 {i} 对',
    'parameters':
        '参数量',
    'patch embedding':
        'patch 嵌入',
    'patch grid ({p}×{p} px)':
        'patch 网格（{p}×{p} 像素）',
    'patch merge → stage {k}':
        'patch 合并 → 第 {k} 阶段',
    'patch merge → stage {s}':
        'patch 合并 → 第 {s} 阶段',
    'prefers far keys':
        '偏好远处的键',
    'prefers near keys':
        '偏好近处的键',
    'pretrained weights':
        '预训练权重',
    'probability':
        '概率',
    'queries, keys and values in one matrix product':
        '查询、键和值由一次矩阵乘法得到',
    'query i = %{{y}} = (%{{customdata[0]}},%{{customdata[1]}})<br>key j = %{{x}} = (%{{customdata[2]}},%{{customdata[3]}})<br>Δ = (%{{customdata[4]}}, %{{customdata[5]}})<br>index = %{{z}}<extra></extra>':
        '查询 i = %{{y}} = (%{{customdata[0]}},%{{customdata[1]}})<br>键 j = %{{x}} = (%{{customdata[2]}},%{{customdata[3]}})<br>Δ = (%{{customdata[4]}}, %{{customdata[5]}})<br>索引 = %{{z}}<extra></extra>',
    'query i = (hi, wi)':
        '查询 i = (hi, wi)',
    'query patch ({r}, {c})':
        '查询 patch ({r}, {c})',
    'query slot':
        '查询位置',
    'query slot %{{y}} = token (%{{customdata[0]}}, %{{customdata[1]}}), region %{{customdata[2]}}<br>key slot %{{x}} = token (%{{customdata[3]}}, %{{customdata[4]}}), region %{{customdata[5]}}<br>mask %{{z}}<extra></extra>':
        '查询位置 %{{y}} = token (%{{customdata[0]}}, %{{customdata[1]}})，区域 %{{customdata[2]}}<br>键位置 %{{x}} = token (%{{customdata[3]}}, %{{customdata[4]}})，区域 %{{customdata[5]}}<br>掩码 %{{z}}<extra></extra>',
    'query slot %{{y}}: region id %{{z}}<extra></extra>':
        '查询位置 %{{y}}：区域 id %{{z}}<extra></extra>',
    'query slot i':
        '查询位置 i',
    'query slot i = ({qh},{qw}){query_text}:<br>its {N} keys read the lit {M}×{M} square':
        '查询位置 i = ({qh},{qw}){query_text}：<br>它的 {N} 个键读取点亮的 {M}×{M} 方块',
    'query token ({r}, {c})':
        '查询 token ({r}, {c})',
    'query token ({{row}}, {{col}}), window {{window{b}}}, slot {{slot{b}}}':
        '查询 token ({{row}}, {{col}})，窗口 {{window{b}}}，位置 {{slot{b}}}',
    '{content} (content)<br><sup>mean |·| = {{scores_mean}}</sup>':
        '{content}（内容）<br><sup>平均 |·| = {{scores_mean}}</sup>',
    'r = {r} with norm1':
        '与 norm1 的相关 r = {r}',
    'random weights':
        '随机权重',
    'random weights: no lean to read':
        '随机权重：看不出偏好',
    'reach panels:<br>reachable<br>since':
        '影响范围栏：<br>从这一步<br>起可达',
    'reachable<br>since':
        '从这一步<br>起可达',
    'region boundary':
        '区域边界',
    'region id':
        '区域 id',
    'region ids of the rolled map ({H}×{W})':
        '循环移位后图的区域 id（{H}×{W}）',
    'relative position bias from a ({G}·{G} = {GG}, {nH}) table, broadcast over windows':
        '来自 ({G}·{G} = {GG}, {nH}) 表的相对位置偏置，在各窗口上广播',
    'removed: zero at every offset':
        '已去掉：每个偏移上都为 0',
    'right edge':
        '右边缘',
    'rolled position (%{{customdata[0]}}, %{{customdata[1]}})<br>holds %{{text}} (%{{customdata[2]}}, %{{customdata[3]}})<br>region id %{{customdata[4]}}<br>window %{{customdata[5]}} of {b1}<extra>after the roll</extra>':
        '循环移位后的位置 (%{{customdata[0]}}, %{{customdata[1]}})<br>存放 %{{text}} (%{{customdata[2]}}, %{{customdata[3]}})<br>区域 id %{{customdata[4]}}<br>{b1} 的窗口 %{{customdata[5]}}<extra>循环移位之后</extra>',
    'rolled position (%{{y}}, %{{x}}) holds token (%{{customdata[0]}}, %{{customdata[1]}})<br>window %{{customdata[2]}}, slot %{{customdata[3]}}<br>region id %{{z}}<extra></extra>':
        '循环移位后的位置 (%{{y}}, %{{x}}) 存放 token (%{{customdata[0]}}, %{{customdata[1]}})<br>窗口 %{{customdata[2]}}，位置 %{{customdata[3]}}<br>区域 id %{{z}}<extra></extra>',
    'rollout back to the start of stage {stage}<br>(its {H}×{W} tokens)':
        'rollout 回到第 {stage} 阶段的开头<br>（它的 {H}×{W} 个 token）',
    'rollout through the {n} traced blocks<br>(stage {stage} tokens)':
        '经过 {n} 个追踪的 block 的 rollout<br>（第 {stage} 阶段的 token）',
    "rollout to the image: stage 1's {p}×{p}-px patches<br>({n} blocks, {weights}, mean over heads)":
        'rollout 回到图像：第 1 阶段 {p}×{p} 像素的 patch<br>（{n} 个 block，{weights}，各注意力头平均）',
    'rollout<br>weight':
        'rollout<br>权重',
    'row (token)':
        '行（token）',
    'row i of the rolled map':
        '循环移位后图的第 i 行',
    'settings':
        '设置',
    "share of<br>the map's<br>largest value":
        '占该图<br>最大值的<br>比例',
    'shift s = {s}':
        '移位 s = {s}',
    'skipped in {b} (s = 0)':
        '{b} 中跳过（s = 0）',
    'slot (%{{customdata[0]}}, %{{customdata[1]}}) = token (%{{customdata[2]}}, %{{customdata[3]}})<br>region id %{{customdata[4]}}<br>{label} = %{{z:.4g}}<extra></extra>':
        '位置 (%{{customdata[0]}}, %{{customdata[1]}}) = token (%{{customdata[2]}}, %{{customdata[3]}})<br>区域 id %{{customdata[4]}}<br>{label} = %{{z:.4g}}<extra></extra>',
    'slot k in the window (row-major: k = M·row + col)':
        '窗口中的位置 k（行优先：k = M·行 + 列）',
    'split into q, k, v and {nH} heads of d = {C}/{nH} = {d}':
        '拆分为 q、k、v 和 {nH} 个注意力头，d = {C}/{nH} = {d}',
    "stage 1's {H}×{W} = {L} tokens, LayerNorm":
        '第 1 阶段的 {H}×{W} = {L} 个 token，LayerNorm',
    'stage {k}':
        '第 {k} 阶段',
    'stage {stage}, blocks {b0} and {b1}':
        '第 {stage} 阶段，block {b0} 和 {b1}',
    'stage {s}, block {b}':
        '第 {s} 阶段，block {b}',
    'stage {s}: {n} blocks':
        '第 {s} 阶段：{n} 个 block',
    'stage {s}<br>{H}×{W}':
        '第 {s} 阶段<br>{H}×{W}',
    'stage-{stage} patch (%{{customdata[0]}}, %{{customdata[1]}})<br>rollout weight %{{z:.3g}}<extra></extra>':
        '第 {stage} 阶段的 patch (%{{customdata[0]}}, %{{customdata[1]}})<br>rollout 权重 %{{z:.3g}}<extra></extra>',
    'stage-{stage}<br>rollout<br>weight':
        '第 {stage} 阶段<br>rollout<br>权重',
    "stage-{s} token (%{{y:.0f}}, %{{x:.0f}}) px<br>%{{z:.2f}} of this map's largest value<extra></extra>":
        '第 {s} 阶段 token (%{{y:.0f}}, %{{x:.0f}}) 像素<br>该图最大值的 %{{z:.2f}}<extra></extra>',
    'stage<br>{s}':
        '第 {s}<br>阶段',
    "the RGB image, {H}×{W} px, normalised with ImageNet's mean and std":
        'RGB 图像，{H}×{W} 像素，用 ImageNet 的均值和标准差归一化',
    'the mask':
        '掩码',
    'the model has no classifier head, so there is no class to explain':
        '模型没有分类头，所以没有可解释的类别',
    'the one window (the whole grid), in both blocks':
        '唯一的窗口（整个网格），两个 block 相同',
    'the one window of {b1} (the whole grid)':
        '{b1} 的唯一窗口（整个网格）',
    'the padding cut off again':
        '再把填充切掉',
    "the pair's second block does not shift":
        '这一对的第二个 block 不移位',
    'the pair, fast path':
        '这一对，快速路径',
    'the pair, traced':
        '这一对，追踪',
    "the query's row (slot {k})":
        '查询所在的行（位置 {k}）',
    "the query's window in each block":
        '查询在每个 block 中的窗口',
    "the query's window in {b1} (window {w})":
        '查询在 {b1} 中的窗口（窗口 {w}）',
    'the relative position bias':
        '相对位置偏置',
    'the shift':
        '移位',
    'the top-1 class changes from {n0} ({p0}) to {n1} ({p1})':
        '第 1 名类别从 {n0}（{p0}）变为 {n1}（{p1}）',
    'the top-1 class stays {n1} ({p0} → {p1})':
        '第 1 名类别保持为 {n1}（{p0} → {p1}）',
    "the whole first block of the pair (regular windows); its output is this block's input":
        '这一对的整个第一个 block（规则窗口）；它的输出是这个 block 的输入',
    "the {n} blocks of stage {stage} before this pair; their output is the pair's input":
        '第 {stage} 阶段在这一对之前的 {n} 个 block；它们的输出是这一对的输入',
    'this exploration was made without it: explore(image, evidence=True) computes Grad-CAM of the top class (or evidence=CLASS) with one more forward and backward pass':
        '这次探索没有计算它：explore(image, evidence=True) 会多做一次前向和反向传播，计算最高类别（或 evidence=CLASS）的 Grad-CAM',
    'this model has no shift':
        '这个模型没有移位',
    'this model, without its mask':
        '这个模型，去掉了掩码',
    'token (%{{customdata[0]}}, %{{customdata[1]}}) in window %{{customdata[2]}}: attends to every token of its window<extra>no mask</extra>':
        'token (%{{customdata[0]}}, %{{customdata[1]}}) 在窗口 %{{customdata[2]}} 中：关注其窗口中的每个 token<extra>没有掩码</extra>',
    'token (%{{y}}, %{{x}}) in window %{{customdata}}: its queries put %{{z:.1%}} of their weight on other regions<extra></extra>':
        'token (%{{y}}, %{{x}}) 在窗口 %{{customdata}} 中：它的查询把 %{{z:.1%}} 的权重放在其他区域上<extra></extra>',
    "token (%{{customdata[0]}}, %{{customdata[1]}})<br>reachable since %{{z}}<extra>0 = the pair's first block, i = pair i</extra>":
        'token (%{{customdata[0]}}, %{{customdata[1]}})<br>从第 %{{z}} 步起可达<extra>0 = 这一对的第一个 block，i = 第 i 对</extra>',
    'token (%{{customdata[0]}}, %{{customdata[1]}})<br>rollout weight %{{z:.3g}}<extra></extra>':
        'token (%{{customdata[0]}}, %{{customdata[1]}})<br>rollout 权重 %{{z:.3g}}<extra></extra>',
    'tokens back on their grid':
        'token 回到网格上',
    'tokens reaching<br>the query':
        '能到达查询<br>的 token 数',
    'top-5 classes':
        '前 5 个类别',
    'trace':
        '追踪',
    'up to the pair':
        '到这一对为止',
    'weight on<br>other regions':
        '落在其他区域<br>上的权重',
    'weighted sum of the values, per head':
        '值的加权和，每个注意力头',
    'window %{{y}}, slot %{{x}}<br>= token (%{{customdata[0]}}, %{{customdata[1]}})<br>region id %{{z}}<extra></extra>':
        '窗口 %{{y}}，位置 %{{x}}<br>= token (%{{customdata[0]}}, %{{customdata[1]}})<br>区域 id %{{z}}<extra></extra>',
    'window column':
        '窗口中的列',
    'window grid ({M}×{M}, rolled map)':
        '窗口网格（{M}×{M}，循环移位后的图）',
    'window row':
        '窗口中的行',
    'window w':
        '窗口 w',
    'window {k}<br>no mask':
        '窗口 {k}<br>没有掩码',
    'window {w} ({kind})<br>query slot %{{y}}, key slot %{{x}}<br>mask %{{z}}<extra></extra>':
        '窗口 {w}（{kind}）<br>查询位置 %{{y}}，键位置 %{{x}}<br>掩码 %{{z}}<extra></extra>',
    'windows back into one map':
        '窗口拼回一张图',
    'with the shift (s = {s})':
        '有移位（s = {s}）',
    'without the mask':
        '去掉掩码',
    'without the shift (W-MSA only)':
        '没有移位（只有 W-MSA）',
    'without {gone}':
        '去掉{gone}',
    'wrapped-around window: same tint + number = one window':
        '绕回的窗口：颜色 + 编号相同 = 同一个窗口',
    'x (pixels)':
        'x（像素）',
    'y (pixels)':
        'y（像素）',
    'zero padding':
        '零填充',
    'zero padding (flattened)':
        '零填充（展平后）',
    'zero padding ({n} tokens), rolled with the rest':
        '零填充（{n} 个 token），随其余部分一起循环移位',
    'zero padding ({n} tokens: {H}×{W} → {Hp}×{Wp})':
        '零填充（{n} 个 token：{H}×{W} → {Hp}×{Wp}）',
    'zero padding ({tag})':
        '零填充（{tag}）',
    'zero padding slots ({n})':
        '零填充位置（{n}）',
    'zeros at the bottom and right to whole windows: {H}×{W} → {Hp}×{Wp}, before the roll':
        '在底部和右侧补零到完整窗口：{H}×{W} → {Hp}×{Wp}，在循环移位之前',
    '{B}, stage {stage}, {which}: relative position bias: removed<br><sup>what if: this model adds no bias, so its {G}×{G} table is zero and attention inside a window sees content only</sup>':
        '{B}，第 {stage} 阶段，{which}：相对位置偏置：已去掉<br><sup>what if：这个模型不加偏置，所以它的 {G}×{G} 表为 0，窗口内的注意力只看内容</sup>',
    '{B}, stage {stage}, {which}: relative position bias<br><sup>the learned table of {G}×{G} offsets, gathered to {N}×{N} per window</sup>':
        '{B}，第 {stage} 阶段，{which}：相对位置偏置<br><sup>学到的 {G}×{G} 个偏移的表，在每个窗口中收集成 {N}×{N}</sup>',
    '{B}, {head}:<br>where token ({{row}}, {{col}}) attends, on the image':
        '{B}，{head}：<br>token ({{row}}, {{col}}) 在图像上关注哪里',
    "{H}×{W} image → stage {stage}'s {Ht}×{Wt} tokens{pad}, C = {C}, nH = {nH} heads of d = {d}, window M = {M} (N = {N}), nW = {nW} windows, {shift}, batch B = 1.":
        '{H}×{W} 图像 → 第 {stage} 阶段的 {Ht}×{Wt} 个 token{pad}，C = {C}，nH = {nH} 个注意力头，d = {d}，窗口 M = {M}（N = {N}），nW = {nW} 个窗口，{shift}，批大小 B = 1。',
    '{H}×{W} tokens do not split into whole windows: the block pads them with zeros to {Hp}×{Wp} (bottom and right, hatched), cuts the windows, and crops the padding off again':
        '{H}×{W} 个 token 不能分成完整的窗口：block 先用零填充到 {Hp}×{Wp}（底部和右侧，斜线），划分窗口，再把填充切掉',
    '{H}×{W} tokens do not split into whole windows: the block pads them with zeros to {Hp}×{Wp} (bottom and right, hatched), then rolls by ({ms}, {ms}), cuts the windows, and crops the padding off again':
        '{H}×{W} 个 token 不能分成完整的窗口：block 先用零填充到 {Hp}×{Wp}（底部和右侧，斜线），再循环移位 ({ms}, {ms})，划分窗口，最后把填充切掉',
    "{H}×{W} tokens, M = {M}, s = {s}: query i may attend to key j only when both came from the same region (same id, mask 0), otherwise −100. The colour strips along the axes are the region ids of the window's query (left) and key (top) slots.":
        '{H}×{W} 个 token，M = {M}，s = {s}：只有当查询 i 和键 j 来自同一区域时（id 相同，掩码 0），i 才能关注 j，否则为 −100。沿坐标轴的色条是窗口中查询（左）和键（上）位置的区域 id。',
    "{arch}: {p} M parameters and {f} G FLOPs, the paper's Table 1 prints {paper_p} / {paper_f} (the reference code's own flops() gives {f} G, as counted here, and its README prints {f1}G).":
        '{arch}：{p} M 参数，{f} G FLOPs，论文表 1 给出 {paper_p} / {paper_f}（参考代码自己的 flops() 给出 {f} G，与这里的计数一致，它的 README 写的是 {f1}G）。',
    "{arch}: {p} M parameters and {f} G FLOPs, the paper's Table 1 prints {paper_p} / {paper_f}.":
        '{arch}：{p} M 参数，{f} G FLOPs，论文表 1 给出 {paper_p} / {paper_f}。',
    "{at}: %{{z:.2f}} of this map's largest value<extra></extra>":
        '{at}：该图最大值的 %{{z:.2f}}<extra></extra>',
    '{b0} windows (for comparison)':
        '{b0} 的窗口（用于对比）',
    '{b0}: one window of {M}×{M} = the whole grid':
        '{b0}：一个 {M}×{M} 窗口 = 整个网格',
    '{b0}: {n} regular windows of {M}×{M}':
        '{b0}：{n} 个 {M}×{M} 的规则窗口',
    '{b1} window grid (no shift)':
        '{b1} 的窗口网格（不移位）',
    '{b1} window grid (paper: moved by s; code: regular)':
        '{b1} 的窗口网格（论文：移动 s；代码：规则）',
    '{b1}: the same one window, no shift':
        '{b1}：同一个窗口，不移位',
    '{b1}: {n} windows, grid shifted by s = {s}':
        '{b1}：{n} 个窗口，网格移位 s = {s}',
    '{b1}: {n} windows, no shift':
        '{b1}：{n} 个窗口，不移位',
    '{b} windows':
        '{b} 的窗口',
    '{b}<br>key token (%{{customdata[0]}}, %{{customdata[1]}})<br>window %{{customdata[2]}}, slot %{{customdata[3]}}<br>region id %{{customdata[4]}}<br>mask %{{customdata[6]}}<br>p = %{{customdata[5]:.3g}}<extra></extra>':
        '{b}<br>键 token (%{{customdata[0]}}, %{{customdata[1]}})<br>窗口 %{{customdata[2]}}，位置 %{{customdata[3]}}<br>区域 id %{{customdata[4]}}<br>掩码 %{{customdata[6]}}<br>p = %{{customdata[5]:.3g}}<extra></extra>',
    '{i} pairs, same pair repeated':
        '{i} 对，重复同一对',
    '{k} pairs':
        '{k} 对',
    '{lead}: parameters and FLOPs (multiply-adds), module by module<br><sup>C = {C}, {nH} heads of d = {d}, M = {M} (N = {N}), nW = {nW} windows on the {H}×{W} grid, MLP ratio r = {r}</sup>':
        '{lead}：参数量和 FLOPs（乘加次数），逐个模块<br><sup>C = {C}，{nH} 个注意力头，d = {d}，M = {M}（N = {N}），{H}×{W} 网格上 nW = {nW} 个窗口，MLP 比例 r = {r}</sup>',
    '{name}<br>%{{x}}<br>%{{y:,}} multiply-adds<extra></extra>':
        '{name}<br>%{{x}}<br>%{{y:,}} 次乘加<extra></extra>',
    'W-MSA<br>%{{x}}, padded to %{{customdata}}<br>%{{y:,}} multiply-adds<extra></extra>':
        'W-MSA<br>%{{x}}，补齐到 %{{customdata}}<br>%{{y:,}} 次乘加<extra></extra>',
    '{name}<br>{n} of {total} patches':
        '{name}<br>{total} 个 patch 中的 {n} 个',
    '{n} blocks on {H}×{W} tokens of width {C}':
        '{n} 个 block，{H}×{W} 个 token，宽度 {C}',
    '{n} tokens':
        '{n} 个 token',
    '{p}×{p} px patches':
        '{p}×{p} 像素的 patch',
    '{some} and {last}':
        '{some}和{last}',
    '{s} tokens':
        '{s} 个 token',
    '{tag}: one of the {n} zero tokens the block adds<extra></extra>':
        '{tag}：block 添加的 {n} 个零 token 之一<extra></extra>',
    '{what} per stage':
        '每个阶段的{what}',
    '{what} {look}{padding}':
        '{what}{look}{padding}',
    'Δ = (Δh, Δw) = (%{{customdata[0]}}, %{{customdata[1]}})<br>table row %{{z}}<br>read by key (%{{customdata[2]}},%{{customdata[3]}})<extra>key (−1,−1): not read by this query</extra>':
        'Δ = (Δh, Δw) = (%{{customdata[0]}}, %{{customdata[1]}})<br>表的第 %{{z}} 行<br>由键 (%{{customdata[2]}},%{{customdata[3]}}) 读取<extra>键 (−1,−1)：这个查询不读取</extra>',
    'Δ = query − key: a key above / left of the query has Δh / Δw > 0; dotted: Δ = (0, 0).<br>Red: the head adds to the logit of keys at that offset (prefers them), blue: it subtracts. Near = |Δh|, |Δw| ≤ 1.':
        'Δ = 查询 − 键：位于查询上方 / 左侧的键 Δh / Δw > 0；虚线：Δ = (0, 0)。<br>红色：该注意力头给这个偏移上的键的 logit 加分（偏好它们），蓝色：减分。近 = |Δh|, |Δw| ≤ 1。',
    'Where token ({{row}}, {{col}}) and {n} more attend, summed, {head}<br><sup>stage {stage}: {b0} and {b1}</sup>':
        'token ({{row}}, {{col}}) 与另外 {n} 个 token 关注哪里（求和），{head}<br><sup>第 {stage} 阶段：{b0} 和 {b1}</sup>',
    '{B}, {head}:<br>where {n} tokens attend, summed, on the image':
        '{B}，{head}：<br>{n} 个 token 在图像上关注哪里（求和）',
    'White × = key masked with −100 for every query of the set in its window: weight ~0. ':
        '白色 × = 对集合中同一窗口里的每个查询都被 −100 掩盖的键：权重约为 0。',
    'in {b} token ({r}, {c}), summed p = {p}':
        '{b} 中的 token ({r}, {c})，p 之和 = {p}',
    "Stars: the query ({r}, {c}) and the {n} patches added to it. (a) sums their attention rows (a key several of them attend to counts for each); outlines: their windows in each block. (b) and (c) are the query's own. {masked}{said}":
        '星号：查询 ({r}, {c}) 和加入它的 {n} 个 patch。(a) 把它们的注意力行相加（几个查询都关注的键，每个查询各算一次）；描边：它们在每个 block 中的窗口。(b) 和 (c) 只属于查询本身。{masked}{said}',
    'added to the query: token ({r}, {c})':
        '加入查询集合：token ({r}, {c})',
    "(a) A set of {n} patches' attention, summed, in both blocks, on the image (the shift undone)":
        '(a) {n} 个 patch 的注意力之和，在两个 block 中，画在图像上（移位已还原）',
    "{arch}: {p} M parameters and {f} G FLOPs (the bias MLP's products not counted, as the reference's flops() leaves them out); Swin V2's model zoo prints {paper_p} / {paper_f}.":
        '{arch}：{p} M 参数、{f} G FLOPs（偏置 MLP 的乘加不计入，参考代码的 flops() 也不计入）；Swin V2 的模型库给出 {paper_p} / {paper_f}。',
    'Blank maps ({places}): an untrained Swin V2 starts its norms after attention and MLP at weight 0 and bias 0, so each block starts as the identity and these norms give 0 for every token (the stage maps above are taken at norm1).':
        '空白的图（{places}）：未训练的 Swin V2 把注意力和 MLP 之后的 norm 初始化为权重 0、偏置 0，所以每个 block 起初都是恒等映射，这些 norm 对每个 token 都输出 0（上面各阶段的图取自 norm1）。',
    '+ 16·σ(MLP) bias<br><sup>mean |·| = {{bias_mean}}</sup>':
        '+ 16·σ(MLP) 位置偏置<br><sup>平均 |·| = {{bias_mean}}</sup>',
    '{B}, stage {stage}, {which}: continuous position bias (Swin V2)<br><sup>16·sigmoid of the bias MLP over the {G}×{G} log-spaced offsets, gathered to {N}×{N} per window</sup>':
        '{B}，第 {stage} 阶段，{which}：连续位置偏置（Swin V2）<br><sup>偏置 MLP 在 {G}×{G} 个对数间隔偏移上的输出经 16·sigmoid，在每个窗口中收集成 {N}×{N}</sup>',
    "the MLP's input: a log-spaced coordinate per offset<br><sup>{M}×{M} window: offsets up to ±{m}; a {W}×{W} window reads the same curve further out</sup>":
        "MLP 的输入：每个偏移一个对数间隔的坐标<br><sup>{M}×{M} 窗口：偏移最大 ±{m}；{W}×{W} 窗口沿同一条曲线读得更远</sup>",
    "head {h}: the same MLP for a {W}×{W} window<br><sup>dashed: this window's offsets, where it equals the table above</sup>":
        "注意力头 {h}：同一个 MLP 用于 {W}×{W} 窗口<br><sup>虚线：本窗口的偏移，在这里它与上面的表相同</sup>",
    "Δ = %{{x}}<br>coordinate = %{{y:.3f}}<extra></extra>": "Δ = %{{x}}<br>坐标 = %{{y:.3f}}<extra></extra>",
    "this window": "本窗口",
    "a {W}×{W} window": "{W}×{W} 窗口",
    "offset Δ (one axis)": "偏移 Δ（一个轴）",
    "MLP input": "MLP 输入",
    "head {h}<br>Δ = (%{{y}}, %{{x}})<br>bias = %{{z:.4f}}<extra></extra>":
        "注意力头 {h}<br>Δ = (%{{y}}, %{{x}})<br>偏置 = %{{z:.4f}}<extra></extra>",
    "this window's offsets": "本窗口的偏移",
    "Δ = query − key: a key above / left of the query has Δh / Δw > 0; dotted: Δ = (0, 0).<br>Swin V2's bias is 16·sigmoid(·), between 0 and 16: it adds to every key, brighter where it adds more. Near = |Δh|, |Δw| ≤ 1.":
        "Δ = 查询 − 键：位于查询上方 / 左侧的键 Δh / Δw > 0；虚线：Δ = (0, 0)。<br>Swin V2 的偏置是 16·sigmoid(·)，在 0 和 16 之间：它给每个键都加分，越亮加得越多。近 = |Δh|, |Δw| ≤ 1。",
    "(b) the code (timm's Swin V2): torch.roll(x, ({ms}, {ms})), then pad to {Hp}×{Wp}:<br>patches moved up and left by {s}, regular windows":
        "(b) 代码（timm 的 Swin V2）：先 torch.roll(x, ({ms}, {ms}))，再填充到 {Hp}×{Wp}：<br>patch 向左上移动 {s}，窗口保持规则",
    "<b>Roll first</b> (timm's Swin V2): {what}. The ids are those of the padded {H}×{W} map; veiled cells are zero padding ({n} tokens).":
        "<b>先移位</b>（timm 的 Swin V2）：{what}。这些 id 属于填充后的 {H}×{W} 图；蒙上的格子是零填充（{n} 个 token）。",
    "<b>Roll first</b> (timm's Swin V2): {what}; padding slots are marked × on the strips.":
        "<b>先移位</b>（timm 的 Swin V2）：{what}；填充的位置在色条上用 × 标出。",
    "<b>Roll first</b> (timm's Swin V2): {what}; the padding stays at the bottom and right, and windows wrap around the real grid.":
        "<b>先移位</b>（timm 的 Swin V2）：{what}；填充留在底部和右侧，窗口绕着真实网格回绕。",
    "{H}×{W} tokens do not split into whole windows: the block rolls them by ({ms}, {ms}), then pads them with zeros to {Hp}×{Wp} (bottom and right, hatched), cuts the windows, and crops the padding off again":
        "{H}×{W} 个 token 不能分成完整的窗口：block 先循环移位 ({ms}, {ms})，再用零填充到 {Hp}×{Wp}（底部和右侧，斜线），划分窗口，最后把填充切掉",
    "zero padding ({n} tokens), added after the roll": "零填充（{n} 个 token），在移位之后加上",
    "Hatched: zero padding ({H}×{W} for {Hr}×{Wr} tokens): the block rolls before it pads (timm's Swin V2), and queries attend to the padding keys too.":
        "斜线：零填充（{Hr}×{Wr} 个 token 填充为 {H}×{W}）：block 先移位再填充（timm 的 Swin V2），查询也会关注填充的键。",
    "Strongest key ({head}): {facts}. In (b) and (c) slots are numbered in the block's own (rolled, then padded) window frame: slot k of window w = (wr, wc) sits at (i, j) = (wr·{M} + k // {M}, wc·{M} + k mod {M}), which is token ((i + {s}) mod {Hr}, (j + {s}) mod {Wr}) where i < {Hr} and j < {Wr}, else padding; the query, token ({r}, {c}), is slot {k} of window {w}.":
        "最强的键（{head}）：{facts}。(b) 和 (c) 中的位置按 block 自己（先循环移位、再填充后）的窗口编号：窗口 w = (wr, wc) 的位置 k 在 (i, j) = (wr·{M} + k // {M}, wc·{M} + k mod {M})，当 i < {Hr} 且 j < {Wr} 时它是 token ((i + {s}) mod {Hr}, (j + {s}) mod {Wr})，否则是填充；查询 token ({r}, {c}) 是窗口 {w} 的位置 {k}。",
}
