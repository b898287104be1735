using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Portal.Training.Models;

/// <summary>A ground-truth box in input pixels, on image <see cref="Image"/> of the batch.</summary>
public readonly record struct TargetBox(int Image, int Class, double X1, double Y1, double X2, double Y2);

/// <summary>The loss of one batch and its terms, each already divided by the batch size.</summary>
public sealed record YoloLoss(Tensor Box, Tensor Objectness, Tensor Classes, Tensor Total);

/// <summary>
/// The YOLOv4 loss as the Darknet configuration of YOLOv4-tiny sets it: per head, boxes decoded with
/// scale_x_y 1.05; each target is assigned to the anchor (of all six) whose shape overlaps it best, in the head whose
/// mask holds that anchor, at the cell of its centre; a CIoU box term scaled by iou_normalizer 0.07; objectness by
/// logistic loss on every cell except those whose predicted box overlaps a target by more than ignore_thresh 0.7;
/// per-class logistic loss on the positives. Sums over cells, divided by the batch size.
/// </summary>
public static class Yolov4TinyLoss
{
    public const double ScaleXy = 1.05;
    public const double IouNormalizer = 0.07;
    public const double IgnoreThreshold = 0.7;

    /// <summary><paramref name="targets"/>: [N, 6] float rows (image, class, x1, y1, x2, y2) in pixels.</summary>
    public static YoloLoss Compute((Tensor Stride32, Tensor Stride16) outputs, Tensor targets, int inputSize, int classes, LayerTaps? taps = null)
    {
        var rows = ReadTargets(targets);
        var anchors = Yolov4Tiny.AnchorsFor(inputSize);
        var (box32, obj32, cls32) = HeadLoss(outputs.Stride32, targets, rows, anchors, Yolov4Tiny.Mask32, 32, classes, taps, "loss.head32");
        var (box16, obj16, cls16) = HeadLoss(outputs.Stride16, targets, rows, anchors, Yolov4Tiny.Mask16, 16, classes, taps, "loss.head16");
        var box = ConvBnLeaky.Tap(taps, "loss.box", box32 + box16);
        var obj = ConvBnLeaky.Tap(taps, "loss.obj", obj32 + obj16);
        var cls = ConvBnLeaky.Tap(taps, "loss.cls", cls32 + cls16);
        return new YoloLoss(box, obj, cls, ConvBnLeaky.Tap(taps, "loss", box + obj + cls));
    }

    public static TargetBox[] ReadTargets(Tensor targets)
    {
        if (targets.dim() != 2 || targets.shape[1] != 6) throw new ArgumentException("targets must be [N, 6]: image, class, x1, y1, x2, y2.");
        var values = targets.to(float32).cpu().data<float>().ToArray();
        var rows = new TargetBox[targets.shape[0]];
        for (var i = 0; i < rows.Length; i++)
        {
            var r = values.AsSpan(i * 6, 6);
            rows[i] = new TargetBox((int)r[0], (int)r[1], r[2], r[3], r[4], r[5]);
        }
        return rows;
    }

    /// <summary>The positives of one head: (image, anchor index within the mask, gy, gx, target index), first target wins a cell.</summary>
    public static List<(int Image, int Anchor, int Gy, int Gx, int Target)> Assign(
        IReadOnlyList<TargetBox> targets, (double W, double H)[] anchors, int[] mask, int stride, int grid)
    {
        var chosen = new Dictionary<(int, int, int, int), int>();
        var order = new List<(int Image, int Anchor, int Gy, int Gx, int Target)>();
        for (var t = 0; t < targets.Count; t++)
        {
            var (x1, y1, x2, y2) = (targets[t].X1, targets[t].Y1, targets[t].X2, targets[t].Y2);
            double w = x2 - x1, h = y2 - y1;
            var best = 0;
            var bestIoU = double.NegativeInfinity;
            for (var a = 0; a < anchors.Length; a++)
            {
                var inter = Math.Min(w, anchors[a].W) * Math.Min(h, anchors[a].H);
                var iou = inter / (w * h + anchors[a].W * anchors[a].H - inter);
                if (iou > bestIoU) (best, bestIoU) = (a, iou);
            }
            var local = Array.IndexOf(mask, best);
            if (local < 0) continue;
            var gx = Math.Min((int)((x1 + x2) / 2 / stride), grid - 1);
            var gy = Math.Min((int)((y1 + y2) / 2 / stride), grid - 1);
            var key = (targets[t].Image, local, gy, gx);
            if (chosen.TryAdd(key, t)) order.Add((targets[t].Image, local, gy, gx, t));
        }
        return order;
    }

    /// <summary>Boxes (x1, y1, x2, y2) in pixels decoded from a head's raw output: [B, 3, H, W, 4].</summary>
    public static Tensor DecodeBoxes(Tensor p, (double W, double H)[] anchors, int[] mask, int stride)
    {
        var (gh, gw) = (p.shape[2], p.shape[3]);
        var ys = arange(gh, dtype: p.dtype, device: p.device).view(1, 1, gh, 1);
        var xs = arange(gw, dtype: p.dtype, device: p.device).view(1, 1, 1, gw);
        var aw = tensor(mask.Select(i => (float)anchors[i].W).ToArray(), device: p.device).to(p.dtype).view(1, 3, 1, 1);
        var ah = tensor(mask.Select(i => (float)anchors[i].H).ToArray(), device: p.device).to(p.dtype).view(1, 3, 1, 1);
        var cx = (p.select(-1, 0).sigmoid() * ScaleXy - (ScaleXy - 1) / 2 + xs) * stride;
        var cy = (p.select(-1, 1).sigmoid() * ScaleXy - (ScaleXy - 1) / 2 + ys) * stride;
        var w = aw * p.select(-1, 2).exp();
        var h = ah * p.select(-1, 3).exp();
        return stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1);
    }

    /// <summary>A head's raw output [B, 3 * (5 + C), H, W] as [B, 3, H, W, 5 + C].</summary>
    public static Tensor PerAnchor(Tensor raw, int classes) =>
        raw.view(raw.shape[0], 3, 5 + classes, raw.shape[2], raw.shape[3]).permute(0, 1, 3, 4, 2);

    private static (Tensor Box, Tensor Obj, Tensor Cls) HeadLoss(Tensor raw, Tensor targets, TargetBox[] rows,
        (double W, double H)[] anchors, int[] mask, int stride, int classes, LayerTaps? taps, string name)
    {
        var (b, gh, gw) = (raw.shape[0], raw.shape[2], raw.shape[3]);
        var p = PerAnchor(raw, classes);
        var boxes = ConvBnLeaky.Tap(taps, name + ".boxes", DecodeBoxes(p, anchors, mask, stride));

        var positives = Assign(rows, anchors, mask, stride, (int)gw);
        var cells = b * 3 * gh * gw;
        var objTarget = new float[cells];
        var flat = positives.Select(q => (((long)q.Image * 3 + q.Anchor) * gh + q.Gy) * gw + q.Gx).ToArray();
        foreach (var f in flat) objTarget[f] = 1;

        Tensor keep;
        using (no_grad())
        {
            var ignore = zeros([b, 3, gh, gw], ScalarType.Bool, raw.device);
            for (var img = 0; img < b; img++)
            {
                var mine = rows.Select((r, i) => (r, i)).Where(x => x.r.Image == img).Select(x => (long)x.i).ToArray();
                if (mine.Length == 0) continue;
                var gt = targets.index_select(0, tensor(mine, device: raw.device)).narrow(1, 2, 4).to(raw.dtype);
                var best = IoUMatrix(boxes[img].reshape(-1, 4), gt).max(1).values.view(3, gh, gw);
                ignore[img] = best > IgnoreThreshold;
            }
            var flatIgnore = ignore.view(-1);
            if (flat.Length > 0) flatIgnore.index_fill_(0, tensor(flat, device: raw.device), false);
            keep = ignore.logical_not().to(raw.dtype);
        }

        var box = zeros([], raw.dtype, raw.device);
        var cls = zeros([], raw.dtype, raw.device);
        if (flat.Length > 0)
        {
            var index = tensor(flat, device: raw.device);
            var targetIndex = tensor(positives.Select(q => (long)q.Target).ToArray(), device: raw.device);
            var gt = targets.index_select(0, targetIndex).narrow(1, 2, 4).to(raw.dtype);
            box = IouNormalizer * (1 - CIoU(boxes.reshape(-1, 4).index_select(0, index), gt)).sum();
            var chosen = p.reshape(-1, 5 + classes).index_select(0, index);
            var clsTarget = functional.one_hot(tensor(positives.Select(q => (long)rows[q.Target].Class).ToArray(), device: raw.device), classes).to(raw.dtype);
            cls = functional.binary_cross_entropy_with_logits(chosen.narrow(1, 5, classes), clsTarget, reduction: Reduction.Sum);
        }
        var objTargets = tensor(objTarget, device: raw.device).to(raw.dtype).view(b, 3, gh, gw);
        var obj = functional.binary_cross_entropy_with_logits(p.select(-1, 4), objTargets, reduction: Reduction.None);
        var objLoss = (obj * keep).sum();
        return (box / b, objLoss / b, cls / b);
    }

    /// <summary>CIoU of boxes (x1, y1, x2, y2) along the last dimension; alpha is held constant, as in the reference losses.</summary>
    public static Tensor CIoU(Tensor a, Tensor b, double eps = 1e-9)
    {
        Tensor C(Tensor t, int i) => t.select(-1, i);
        var inter = (minimum(C(a, 2), C(b, 2)) - maximum(C(a, 0), C(b, 0))).clamp(min: 0) *
                    (minimum(C(a, 3), C(b, 3)) - maximum(C(a, 1), C(b, 1))).clamp(min: 0);
        var (wa, ha) = (C(a, 2) - C(a, 0), C(a, 3) - C(a, 1));
        var (wb, hb) = (C(b, 2) - C(b, 0), C(b, 3) - C(b, 1));
        var union = wa * ha + wb * hb - inter + eps;
        var iou = inter / union;
        var cw = maximum(C(a, 2), C(b, 2)) - minimum(C(a, 0), C(b, 0));
        var ch = maximum(C(a, 3), C(b, 3)) - minimum(C(a, 1), C(b, 1));
        var c2 = cw.pow(2) + ch.pow(2) + eps;
        var rho2 = ((C(a, 0) + C(a, 2) - C(b, 0) - C(b, 2)).pow(2) + (C(a, 1) + C(a, 3) - C(b, 1) - C(b, 3)).pow(2)) / 4;
        var v = 4 / (Math.PI * Math.PI) * (atan(wb / hb) - atan(wa / ha)).pow(2);
        Tensor alpha;
        using (no_grad()) alpha = v / (1 - iou + v + eps);
        return iou - rho2 / c2 - alpha * v;
    }

    /// <summary>IoU of every box of <paramref name="a"/> [N, 4] with every box of <paramref name="b"/> [M, 4].</summary>
    public static Tensor IoUMatrix(Tensor a, Tensor b)
    {
        var a1 = a.unsqueeze(1);
        var b1 = b.unsqueeze(0);
        Tensor C(Tensor t, int i) => t.select(-1, i);
        var inter = (minimum(C(a1, 2), C(b1, 2)) - maximum(C(a1, 0), C(b1, 0))).clamp(min: 0) *
                    (minimum(C(a1, 3), C(b1, 3)) - maximum(C(a1, 1), C(b1, 1))).clamp(min: 0);
        var areaA = (C(a, 2) - C(a, 0)) * (C(a, 3) - C(a, 1));
        var areaB = (C(b, 2) - C(b, 0)) * (C(b, 3) - C(b, 1));
        return inter / (areaA.unsqueeze(1) + areaB.unsqueeze(0) - inter);
    }
}
