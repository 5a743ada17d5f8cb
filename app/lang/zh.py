"""The page's own words in Chinese (app.words): its controls' labels and notes, buttons, tabs,
its introduction, the badge and the query's caption. Vocabulary as the lesson's and the
figures' (swinviz/lesson/lang/zh.py, swinviz/figures/lang/zh.py)."""

# ruff: noqa: E501  (one text and its translation an entry: long sentences stay whole)
from __future__ import annotations

WORDS: dict[str, str] = {
    # the introduction
    "# swinviz · the shifted windows of the Swin Transformer\nUpload a photo (or click an example). It is cut into **4x4-pixel patches (tokens)** and run\nthrough a whole Swin-T; the page shows one **pair of blocks** of one **stage** (stage 1, pair 0\nfirst): the pair's **first block** lets each token attend only to the tokens of its own regular\nwindow (W-MSA); its **second block** does the same with the windows **shifted** by a few tokens\n(SW-MSA), so information crosses the window borders. Later stages work on coarser tokens (8, 16,\n32 px). Every picture is drawn from the model's own tensors. **Click the image on the right** to\npick a query token; the tabs below follow the data's path through the two blocks. **New to\nSwin?** The **Lesson** tab walks through the idea one step at a time (English or 中文).":
        "# swinviz · Swin Transformer 的移位窗口\n上传一张照片（或点击一个示例）。它被切成 **4x4 像素的 patch（token）**，送进完整的 Swin-T；页面展示某个 **stage** 中的一 **对 block**（先是第 1 阶段、第 0 对）：这一对的 **第一个 block** 只让每个 token 关注它所在规则窗口内的 token（W-MSA）；**第二个 block** 做同样的事，但窗口 **移位** 了几个 token（SW-MSA），于是信息能跨过窗口边界。后面的阶段用更粗的 token（8、16、32 像素）。每张图都来自模型自己的张量。**点击右侧的图像** 选择查询 token；下面的标签页沿着数据穿过这两个 block 的路径排列。**第一次接触 Swin？** **课程** 标签页一步一步地讲解其中的思路（English 或中文）。",
    # the input panel
    "Your image (upload, paste or webcam)": "你的图像（上传、粘贴或摄像头）",
    "Example photos (click one)": "示例照片（点击一张）",
    "Model settings: presets, input size, window, shift, weights": "模型设置：预设、输入尺寸、窗口、移位、权重",
    "A change here runs the model again (in a number box: when you press Enter or leave the box).":
        "这里的改动会重新运行模型（数字框：按回车或离开输入框时）。",
    "Presets": "预设",
    "Sets every model setting at once; the 6x6 example shows the tables of docs/concepts.md's worked example (6x6 tokens, window 3, shift 1, random weights).":
        "一次设定所有模型设置；6x6 示例给出设计笔记中算例的各张表（6x6 个 token，窗口 3，移位 1，随机权重）。",
    "The image is centre-cropped to a square of this size, a multiple of 4 (a token grid that does not split into whole windows is padded), at most 448.":
        "图像被居中裁剪为这个边长的正方形，边长是 4 的倍数（不能整分成窗口的 token 网格会被填充），最大 448。",
    "Pretrained: what the trained model attends to (its window, width and heads are then fixed). Random weights show the mechanics and let every setting change.":
        "预训练：训练好的模型关注哪里（此时它的窗口、宽度和注意力头数固定）。随机权重展示机制本身，并允许改动每个设置。",
    "Input size (pixels)": "输入尺寸（像素）",
    "Weights": "权重",
    "Window size M (tokens)": "窗口大小 M（token）",
    "Swin-T uses 7 (windows of 7x7 tokens), Swin V2-T 8.":
        "Swin-T 用 7（7x7 个 token 的窗口），Swin V2-T 用 8。",
    "Shift s of the second block (tokens)": "第二个 block 的移位 s（token）",
    "Smaller than the window; Swin uses M // 2.": "小于窗口；Swin 用 M // 2。",
    "More settings": "更多设置",
    "Seed (random weights)": "随机种子（随机权重）",
    "Embedding width C (random weights)": "嵌入宽度 C（随机权重）",
    "Heads of stage 1 (doubled per stage; must divide C)": "第 1 阶段的注意力头数（每个阶段翻倍；须整除 C）",
    "Run the model": "运行模型",
    # the view panel
    "Upload an image (or click an example) to run the model.": "上传一张图像（或点击一个示例）来运行模型。",
    "Describe this figure": "描述这张图",
    "The model's input: click a patch to pick the query": "模型的输入：点击一个 patch 选择查询",
    "Stage": "阶段",
    "stage 1": "第 1 阶段",
    "stage 2": "第 2 阶段",
    "stage 3": "第 3 阶段",
    "stage 4": "第 4 阶段",
    "Tokens of 4, 8, 16, 32 px; the model is not run again from scratch.": "token 为 4、8、16、32 像素；模型不会从头重新运行。",
    "Block pair": "block 对",
    "pair {p}: blocks {a}, {b}": "第 {p} 对：block {a}、{b}",
    "first block of the pair: block {n} (W-MSA)": "这一对的第一个 block：block {n}（W-MSA）",
    "second block: block {n} (SW-MSA)": "第二个 block：block {n}（SW-MSA）",
    "second block: block {n} (SW-MSA, no shift here: one window)": "第二个 block：block {n}（SW-MSA，这里不移位：只有一个窗口）",
    "all heads": "所有注意力头",
    "head {h}": "注意力头 {h}",
    "pretrained (ImageNet)": "预训练（ImageNet）",
    "pretrained (not available here: see the notice)": "预训练（这里不可用：见提示）",
    "Model": "模型",
    "Swin V2 changed the parts drawn here: cosine attention, a position bias from a small network, norms after attention. The Compare tab shows both on your image.":
        "Swin V2 改动的正是这里画出的部分：余弦注意力、由一个小网络给出的位置偏置、放在注意力之后的归一化。“对比”页把两个模型在你的图像上并排展示。",
    "Swin V2-T (256 px, window 8, shift 4)": "Swin V2-T（256 像素，窗口 8，移位 4）",
    "random (seeded)": "随机（固定种子）",
    "checkpoint file": "checkpoint 文件",
    "Swin-T (224 px, window 7, shift 3)": "Swin-T（224 像素，窗口 7，移位 3）",
    "the 6x6 example (24 px, window 3, shift 1)": "6x6 示例（24 像素，窗口 3，移位 1）",
    "What if Swin ran without…": "假如 Swin 去掉……",
    "Left out in every block, same weights: the figures show what breaks; the prediction tab compares with Swin as it is.":
        "在每个 block 中去掉，权重不变：图中显示什么被破坏了；预测标签页与原本的 Swin 对比。",
    "the shift": "移位",
    "the mask": "掩码",
    "the bias": "偏置",
    "Block": "选择 block",
    "Attention head": "注意力头",
    "Figure style": "图的样式",
    "Lecture: white background, large fonts. Phone: the panels one above the other (chosen by itself on a narrow screen).":
        "讲课：白色背景、大字号。手机：子图上下排列（窄屏上自动选择）。",
    "screen": "屏幕",
    "lecture slides": "讲课幻灯片",
    "phone": "手机",
    "Download figures (PNG + SVG, zip)": "下载所有图（PNG + SVG，zip）",
    "Download the lesson's deck (16:9 slides, PPTX, PDF)": "下载课程幻灯片（16:9，PPTX、PDF）",
    "Copy a link to this view": "复制指向此视图的链接",
    "Each figure's camera button (top right of the figure) saves it alone as a PNG 1600 px wide.":
        "每张图右上角的相机按钮可单独把它保存为 1600 像素宽的 PNG。",
    # the tabs
    "Lesson": "课程",
    "◀ Previous": "◀ 上一步",
    "Next ▶": "下一步 ▶",
    "The reference code": "参考代码",
    "1 · Windows": "1 · 窗口",
    "2 · Cyclic shift": "2 · 循环移位",
    "3 · Masks": "3 · 掩码",
    "4 · Relative position": "4 · 相对位置",
    "5 · Attention": "5 · 注意力",
    "6 · Information flow": "6 · 信息流",
    "7 · Cost": "7 · 开销",
    "8 · Shapes": "8 · 形状",
    "9 · Why each part": "9 · 每个部分的作用",
    "10 · Prediction": "10 · 预测",
    "11 · Class evidence": "11 · 类别证据",
    "The cyclic shift, animated": "循环移位动画",
    "Class to explain: one of the top 5, or type an ImageNet class (name or index)":
        "要解释的类别：前 5 个之一，或输入一个 ImageNet 类别（名称或编号）",
    # the badge
    "**Stage {stage}, pair {pair}** (blocks {b0} and {b1})": "**第 {stage} 阶段，第 {pair} 对**（block {b0} 和 {b1}）",
    "**What if:** without {parts} in every block": "**假如：** 每个 block 都去掉{parts}",
    "**Tokens:** {H}x{W} ({p}x{p} px each, {size}x{size} px input)": "**token：** {H}x{W}（每个 {p}x{p} 像素，输入 {size}x{size} 像素）",
    "**Windows:** 1 window of {M}x{M}, no shift": "**窗口：** 1 个 {M}x{M} 的窗口，无移位",
    "**Windows:** {nW} windows of {M}x{M}, no shift": "**窗口：** {nW} 个 {M}x{M} 的窗口，无移位",
    "**Windows:** {nW} windows of {M}x{M}, shift {s}": "**窗口：** {nW} 个 {M}x{M} 的窗口，移位 {s}",
    "**Heads:** {nH} x {d} channels": "**注意力头：** {nH} x {d} 个通道",
    "**Weights:** {weights}": "**权重：** {weights}",
    "**Model:** {model}": "**模型：** {model}",
    "**Device:** {device}": "**设备：** {device}",
    "**Model run:** {ms} ms": "**模型运行：** {ms} ms",
    "The window you asked for ({M}x{M}) covers the whole {H}x{W} token grid": "你要求的窗口（{M}x{M}）覆盖了整个 {H}x{W} 的 token 网格",
    "One {M}x{M} window covers the whole {H}x{W} token grid of stage {stage}": "一个 {M}x{M} 的窗口覆盖了第 {stage} 阶段整个 {H}x{W} 的 token 网格",
    "{why}, so both blocks use that one window and neither shifts (docs/concepts.md, fact 2): nothing needs shifting when one window already sees everything, as at stage 4 of Swin-T at 224 px.":
        "{why}，所以两个 block 都用这一个窗口，都不移位：一个窗口已经看到全部时无需移位，正如 224 像素下 Swin-T 的第 4 阶段。",
    "**Prediction (top 5):** {classes}": "**预测（前 5）：** {classes}",
    " *(meaningless with random weights)*": " *（随机权重下没有意义）*",
    # the query's caption (app/access.py reads its numbers in either language)
    "**Query patch:** row {r}, column {c} of stage {stage}'s {H}x{W} tokens ({p}x{p} px each; yellow square in the ring). The outlined, bright area is its window in {name}: the only patches it can attend to in that block. Click anywhere on the image to pick another patch; Shift+click adds a patch to a query set.":
        "**查询 patch：** 第 {stage} 阶段 {H}x{W} 个 token 中第 {r} 行、第 {c} 列的 token（每个 {p}x{p} 像素；圆环中的黄色方块）。描边的明亮区域是它在{name}中的窗口：它在这个 block 中只能关注这些 patch。点击图像上任意位置可选择另一个 patch；按住 Shift 点击可把 patch 加入查询集合。",
    "**Query set:** the query and {patches}{more} (small yellow squares): the attention figure sums their attention. Shift+click one again to take it out; a plain click starts a new set.":
        "**查询集合：** 查询和 {patches}{more}（黄色小方块）：注意力图把它们的注意力相加。再次按住 Shift 点击可将其移出；普通点击会开始新的集合。",
    "block {n} (regular windows)": " block {n}（规则窗口）",
    "block {n} (shifted windows)": " block {n}（移位窗口）",
    "block {n} (one window, no shift)": " block {n}（一个窗口，无移位）",
    "### {model}\n{size} px input · stage {stage}: {H}x{W} tokens, windows of {M}x{M}, shift {s} · weights: {weights} · query ({r}, {c})":
        "### {model}\n输入 {size} 像素 · 第 {stage} 阶段：{H}x{W} 个 token，{M}x{M} 的窗口，移位 {s} · 权重：{weights} · 查询 ({r}, {c})",
    "Compare Swin-T · Swin V2-T": "对比 Swin-T · Swin V2-T",
    "The same image through both models, side by side: the query's attention at the same spot of the image (each model's own token grid), the position bias each block adds, and the prediction. Swin V2 computes cosine similarity times a learned temperature where Swin V1 computes q·k times 1/√d, and a small network (MLP) of log-spaced offsets gives its bias where Swin V1 reads a learned table.":
        "同一张图像送进两个模型，并排展示：查询在图像同一位置上的注意力（各用模型自己的 token 网格）、每个 block 加上的位置偏置，以及预测。Swin V1 计算 q·k 乘以 1/√d，Swin V2 改为余弦相似度乘以一个学到的温度；Swin V1 从学到的表中读取偏置，Swin V2 则由一个作用在对数间隔偏移上的小网络（MLP）给出。",
    "random (seed {seed})": "随机（种子 {seed}）",
    "Part of this link was left out: {parts}. The rest of the view is as the link says.":
        "这个链接有一部分没有用上：{parts}。其余部分按链接所说显示。",  # app.address.Link.note
    # the settings panel's budget line (app.panel.budget_line; the reason keeps the library's words)
    "**These settings will not run:** {why}": "**这些设置无法运行：** {why}",
    "This run needs about {need} of the {limit} MB each request may use; its figures send about {send}.":
        "这次运行大约需要 {need}（每个请求最多可用 {limit} MB）；它的图会发送大约 {send}。",  # the badge's weights (app.panel.weights_text)
    # the weights notice (swinviz.weights.policy: NOTICE, its reasons and how)
    "Random weights: no pretrained weights could be had ({reasons}). The windows, shift, masks and shapes are exact, but attention, bias and the prediction mean nothing. To use the pretrained Swin: {how}.":
        "随机权重：无法获得预训练权重（{reasons}）。窗口、移位、掩码和形状是准确的，但注意力、偏置和预测没有意义。要使用预训练的 Swin：{how}。",
    "they are not in the local Hugging Face cache and HF_HUB_OFFLINE is set":
        "本地 Hugging Face 缓存中没有这些权重，且设置了 HF_HUB_OFFLINE",
    "they are not in the local Hugging Face cache": "本地 Hugging Face 缓存中没有这些权重",
    "the Hugging Face Hub could not be reached ({why}) and they are not in the local cache":
        "无法连接 Hugging Face Hub（{why}），本地缓存中也没有这些权重",
    "{name}={path} is not a readable checkpoint file or folder":
        "{name}={path} 不是可读的 checkpoint 文件或文件夹",
    "run `hf download {repo} {file}` once with a network": "在有网络时运行一次 `hf download {repo} {file}`",
    ", or set {name} to a Swin checkpoint file (official, timm, torchvision or transformers layout)":
        "，或把 {name} 设为一个 Swin checkpoint 文件（官方、timm、torchvision 或 transformers 格式）",
}
