#!/usr/bin/python3
"""The PyTorch reference of YOLOv4-tiny for the differential test (stage 4).

It builds the model of the YOLOv4-tiny paper and the Darknet reference configuration (yolov4-tiny.cfg): a CSP-style
tiny backbone whose blocks split the channels in two (Darknet's route with groups=2, group_id=1 keeps the second
half), two YOLO heads at strides 32 and 16 with anchor masks 3,4,5 and 1,2,3, leaky ReLU with slope 0.1, batch norm
with epsilon 1e-5 and a running-statistics update of 0.01 (Darknet's rolling .99/.01), nearest upsampling, and the
YOLOv4 loss (CIoU box term scaled by iou_normalizer 0.07, objectness with ignore_thresh 0.7, per-class logistic).

For fixed seeded weights and inputs it writes to --out:
  state_dict.pt   the model's state_dict (torch.save), as TorchSharp.PyBridge reads it
  inputs.pt       {"images": [B,3,S,S], "targets": [N,6] (image, class, x1, y1, x2, y2 in pixels)}
  layers.pt       every named layer's output in forward order, and the loss terms as 0-dim tensors
  grads.pt        the gradient of the loss for every parameter
  buffers.pt      the batch-norm running statistics after the training-mode forward
  manifest.json   recipe, sizes, seed, anchors, layer names in order, the loss, and per tensor the reference's own
                  float32 rounding error (its float32 result against the same computation in float64)

Run with Debian's python: /usr/bin/python3 agents/reference/yolov4_tiny.py --out DIR [--size 416] [--batch 2]
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

RECIPE = "yolov4-tiny"
ANCHORS_416 = [(10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319)]
MASK32 = [3, 4, 5]
MASK16 = [1, 2, 3]
LEAKY = 0.1
BN_EPS = 1e-5
BN_MOMENTUM = 0.01
SCALE_XY = 1.05
IOU_NORMALIZER = 0.07
IGNORE_THRESH = 0.7


def anchors_for(size):
    """Darknet's anchors are in pixels of a 416 input; other input sizes scale them."""
    return [(w * size / 416.0, h * size / 416.0) for (w, h) in ANCHORS_416]


class ConvBnLeaky(nn.Module):
    def __init__(self, cin, cout, k, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS, momentum=BN_MOMENTUM)

    def forward(self, x, taps, name):
        x = tap(taps, name + ".conv", self.conv(x))
        x = tap(taps, name + ".bn", self.bn(x))
        return tap(taps, name + ".act", F.leaky_relu(x, LEAKY))


class CspTinyBlock(nn.Module):
    """Darknet layers 2-9 (and 10-17, 18-25): conv, route groups=2 group_id=1, two convs, route, 1x1 conv, route, maxpool."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = ConvBnLeaky(c, c, 3)
        self.conv2 = ConvBnLeaky(c // 2, c // 2, 3)
        self.conv3 = ConvBnLeaky(c // 2, c // 2, 3)
        self.conv4 = ConvBnLeaky(c, c, 1)

    def forward(self, x, taps, name):
        c = x.shape[1]
        x1 = self.conv1(x, taps, name + ".conv1")
        half = tap(taps, name + ".split", x1[:, x1.shape[1] // 2:])
        x2 = self.conv2(half, taps, name + ".conv2")
        x3 = self.conv3(x2, taps, name + ".conv3")
        x4 = self.conv4(tap(taps, name + ".route1", torch.cat([x3, x2], 1)), taps, name + ".conv4")
        out = tap(taps, name + ".route2", torch.cat([x1, x4], 1))
        return tap(taps, name + ".pool", F.max_pool2d(out, 2, 2)), x4


class Yolov4Tiny(nn.Module):
    def __init__(self, classes):
        super().__init__()
        out = 3 * (5 + classes)
        self.conv0 = ConvBnLeaky(3, 32, 3, 2)
        self.conv1 = ConvBnLeaky(32, 64, 3, 2)
        self.block1 = CspTinyBlock(64)
        self.block2 = CspTinyBlock(128)
        self.block3 = CspTinyBlock(256)
        self.conv2 = ConvBnLeaky(512, 512, 3)
        self.head32_conv1 = ConvBnLeaky(512, 256, 1)
        self.head32_conv2 = ConvBnLeaky(256, 512, 3)
        self.head32_out = nn.Conv2d(512, out, 1)
        self.up_conv = ConvBnLeaky(256, 128, 1)
        self.head16_conv = ConvBnLeaky(384, 256, 3)
        self.head16_out = nn.Conv2d(256, out, 1)

    def forward(self, x, taps=None):
        x = self.conv0(x, taps, "conv0")
        x = self.conv1(x, taps, "conv1")
        x, _ = self.block1(x, taps, "block1")
        x, _ = self.block2(x, taps, "block2")
        x, feat16 = self.block3(x, taps, "block3")
        x = self.conv2(x, taps, "conv2")
        p = self.head32_conv1(x, taps, "head32_conv1")
        y32 = tap(taps, "head32_out", self.head32_out(self.head32_conv2(p, taps, "head32_conv2")))
        u = self.up_conv(p, taps, "up_conv")
        u = tap(taps, "upsample", F.interpolate(u, scale_factor=2, mode="nearest"))
        r = tap(taps, "route16", torch.cat([u, feat16], 1))
        y16 = tap(taps, "head16_out", self.head16_out(self.head16_conv(r, taps, "head16_conv")))
        return y32, y16


def tap(taps, name, t):
    if taps is not None:
        taps[name] = t
    return t


def box_ciou(a, b, eps=1e-9):
    """CIoU of boxes (x1, y1, x2, y2) along the last dimension; alpha is held constant, as in the reference losses."""
    inter = (torch.min(a[..., 2], b[..., 2]) - torch.max(a[..., 0], b[..., 0])).clamp(min=0) * \
            (torch.min(a[..., 3], b[..., 3]) - torch.max(a[..., 1], b[..., 1])).clamp(min=0)
    wa, ha = a[..., 2] - a[..., 0], a[..., 3] - a[..., 1]
    wb, hb = b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]
    union = wa * ha + wb * hb - inter + eps
    iou = inter / union
    cw = torch.max(a[..., 2], b[..., 2]) - torch.min(a[..., 0], b[..., 0])
    ch = torch.max(a[..., 3], b[..., 3]) - torch.min(a[..., 1], b[..., 1])
    c2 = cw ** 2 + ch ** 2 + eps
    rho2 = ((a[..., 0] + a[..., 2] - b[..., 0] - b[..., 2]) ** 2 + (a[..., 1] + a[..., 3] - b[..., 1] - b[..., 3]) ** 2) / 4
    v = (4 / math.pi ** 2) * (torch.atan(wb / hb) - torch.atan(wa / ha)) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return iou - rho2 / c2 - alpha * v


def box_iou_matrix(a, b):
    inter = (torch.min(a[:, None, 2], b[None, :, 2]) - torch.max(a[:, None, 0], b[None, :, 0])).clamp(min=0) * \
            (torch.min(a[:, None, 3], b[None, :, 3]) - torch.max(a[:, None, 1], b[None, :, 1])).clamp(min=0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def assign(targets, anchors, mask, stride, grid):
    """Positives of one head: (image, anchor in mask, gy, gx, target index); the anchor is the best by shape IoU over all six."""
    chosen = {}
    for t in range(targets.shape[0]):
        img, _, x1, y1, x2, y2 = [float(v) for v in targets[t]]
        w, h = x2 - x1, y2 - y1
        ious = [min(w, aw) * min(h, ah) / (w * h + aw * ah - min(w, aw) * min(h, ah)) for (aw, ah) in anchors]
        best = max(range(len(anchors)), key=lambda i: (ious[i], -i))
        if best not in mask:
            continue
        gx = min(int((x1 + x2) / 2 / stride), grid - 1)
        gy = min(int((y1 + y2) / 2 / stride), grid - 1)
        key = (int(img), mask.index(best), gy, gx)
        chosen.setdefault(key, t)  # two targets on one cell and anchor: the first keeps it
    return [(k[0], k[1], k[2], k[3], t) for k, t in sorted(chosen.items(), key=lambda kv: kv[1])]


def head_loss(raw, targets, anchors, mask, stride, classes, taps, name):
    b, _, gh, gw = raw.shape
    p = raw.view(b, 3, 5 + classes, gh, gw).permute(0, 1, 3, 4, 2)
    ys = torch.arange(gh, dtype=raw.dtype).view(1, 1, gh, 1)
    xs = torch.arange(gw, dtype=raw.dtype).view(1, 1, 1, gw)
    aw = torch.tensor([anchors[i][0] for i in mask], dtype=raw.dtype).view(1, 3, 1, 1)
    ah = torch.tensor([anchors[i][1] for i in mask], dtype=raw.dtype).view(1, 3, 1, 1)
    cx = (torch.sigmoid(p[..., 0]) * SCALE_XY - (SCALE_XY - 1) / 2 + xs) * stride
    cy = (torch.sigmoid(p[..., 1]) * SCALE_XY - (SCALE_XY - 1) / 2 + ys) * stride
    w = aw * torch.exp(p[..., 2])
    h = ah * torch.exp(p[..., 3])
    boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)
    tap(taps, name + ".boxes", boxes)

    positives = assign(targets, anchors, mask, stride, gw)
    obj_target = torch.zeros(b, 3, gh, gw, dtype=raw.dtype)
    with torch.no_grad():
        ignore = torch.zeros(b, 3, gh, gw, dtype=torch.bool)
        for img in range(b):
            gt = targets[targets[:, 0] == img][:, 2:6].to(raw.dtype)
            if gt.shape[0] > 0:
                best = box_iou_matrix(boxes[img].reshape(-1, 4), gt).max(1).values.view(3, gh, gw)
                ignore[img] = best > IGNORE_THRESH
    box_loss = raw.new_zeros(())
    cls_loss = raw.new_zeros(())
    if positives:
        bi = torch.tensor([q[0] for q in positives])
        ai = torch.tensor([q[1] for q in positives])
        yi = torch.tensor([q[2] for q in positives])
        xi = torch.tensor([q[3] for q in positives])
        ti = torch.tensor([q[4] for q in positives])
        obj_target[bi, ai, yi, xi] = 1
        ignore[bi, ai, yi, xi] = False
        gt = targets[ti][:, 2:6].to(raw.dtype)
        box_loss = IOU_NORMALIZER * (1 - box_ciou(boxes[bi, ai, yi, xi], gt)).sum()
        cls_target = F.one_hot(targets[ti][:, 1].long(), classes).to(raw.dtype)
        cls_loss = F.binary_cross_entropy_with_logits(p[bi, ai, yi, xi][:, 5:], cls_target, reduction="sum")
    obj = F.binary_cross_entropy_with_logits(p[..., 4], obj_target, reduction="none")
    obj_loss = (obj * (~ignore).to(raw.dtype)).sum()
    return box_loss / b, obj_loss / b, cls_loss / b


def yolo_loss(outputs, targets, size, classes, taps=None):
    anchors = anchors_for(size)
    y32, y16 = outputs
    box32, obj32, cls32 = head_loss(y32, targets, anchors, MASK32, 32, classes, taps, "loss.head32")
    box16, obj16, cls16 = head_loss(y16, targets, anchors, MASK16, 16, classes, taps, "loss.head16")
    box, obj, cls = box32 + box16, obj32 + obj16, cls32 + cls16
    tap(taps, "loss.box", box)
    tap(taps, "loss.obj", obj)
    tap(taps, "loss.cls", cls)
    return tap(taps, "loss", box + obj + cls)


def make_model(seed, classes):
    torch.manual_seed(seed)
    model = Yolov4Tiny(classes)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        # Batch norm starts at weight 1, bias 0, mean 0, var 1, where a wrong epsilon or a swapped parameter can
        # hide; random values make every tensor of the state_dict matter.
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.4 * torch.rand(m.bias.shape, generator=g) - 0.2)
                m.running_mean.copy_(0.4 * torch.rand(m.running_mean.shape, generator=g) - 0.2)
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
    return model


def make_inputs(seed, batch, size, classes, per_image=2):
    g = torch.Generator().manual_seed(seed + 2)
    images = torch.rand(batch, 3, size, size, generator=g)
    rows = []
    for img in range(batch):
        for _ in range(per_image):
            w = size * (0.15 + 0.45 * torch.rand(1, generator=g).item())
            h = w * (0.7 + 0.6 * torch.rand(1, generator=g).item())
            h = min(h, size * 0.9)
            x1 = torch.rand(1, generator=g).item() * (size - w)
            y1 = torch.rand(1, generator=g).item() * (size - h)
            cls = int(torch.randint(classes, (1,), generator=g).item())
            rows.append([img, cls, round(x1, 2), round(y1, 2), round(x1 + w, 2), round(y1 + h, 2)])
    return images, torch.tensor(rows, dtype=torch.float32)


def run(model, images, targets, size, classes):
    """One training-mode forward and backward: layer outputs, loss, gradients, running statistics."""
    model.train()
    model.zero_grad()
    taps = {}
    loss = yolo_loss(model(images, taps), targets, size, classes, taps)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    buffers = {n: b.detach().clone() for n, b in model.named_buffers() if "running" in n}
    return taps, loss, grads, buffers


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--size", type=int, default=416, help="square input size, a multiple of 32 (default 416)")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--classes", type=int, default=3, help="3: the synthetic shapes of the yolov4-tiny recipe")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1 by default: the result then does not depend on the thread count)")
    parser.add_argument("--pickle-model", action="store_true", help=argparse.SUPPRESS)  # writes a whole model, to test refusal
    args = parser.parse_args()
    if args.size % 32 != 0 or args.size < 64:
        sys.exit("--size must be a multiple of 32, at least 64")
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)

    model = make_model(args.seed, args.classes)
    images, targets = make_inputs(args.seed, args.batch, args.size, args.classes)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    if args.pickle_model:
        torch.save(model, os.path.join(args.out, "state_dict.pt"))
    else:
        torch.save(state, os.path.join(args.out, "state_dict.pt"))
    torch.save({"images": images, "targets": targets}, os.path.join(args.out, "inputs.pt"))

    taps, loss, grads, buffers = run(model, images, targets, args.size, args.classes)

    # The same computation in float64 from the same starting state: how far the reference's own float32 result is
    # from exact tells the comparison how much rounding a float32 re-implementation may show at each tensor.
    model64 = make_model(args.seed, args.classes).double()
    model64.load_state_dict({k: (v.double() if v.is_floating_point() else v) for k, v in state.items()})
    taps64, _, grads64, buffers64 = run(model64, images.double(), targets.double(), args.size, args.classes)

    def rounding(a, b):
        return {n: float((a[n].double() - b[n]).abs().max()) if a[n].numel() else 0.0 for n in a}

    tensors = {n: t.detach().contiguous().clone() for n, t in taps.items()}
    torch.save(tensors, os.path.join(args.out, "layers.pt"))
    torch.save({n: g.contiguous() for n, g in grads.items()}, os.path.join(args.out, "grads.pt"))
    torch.save({n: b.contiguous() for n, b in buffers.items()}, os.path.join(args.out, "buffers.pt"))
    manifest = {
        "recipe": RECIPE,
        "framework": "pytorch " + torch.__version__,
        "inputSize": args.size,
        "batch": args.batch,
        "classes": args.classes,
        "seed": args.seed,
        "anchors": [list(a) for a in anchors_for(args.size)],
        "batchNormEpsilon": BN_EPS,
        "batchNormMomentum": BN_MOMENTUM,
        "leakySlope": LEAKY,
        "mode": "train",
        "loss": float(loss),
        "layers": list(tensors.keys()),
        "parameters": list(grads.keys()),
        "buffers": list(buffers.keys()),
        "rounding": {
            "layers": rounding(tensors, taps64),
            "gradients": rounding(grads, grads64),
            "buffers": rounding(buffers, buffers64),
        },
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {len(tensors)} layer outputs, {len(grads)} gradients, loss {float(loss):.6f} to {args.out}")


if __name__ == "__main__":
    main()
