"""COCOeval's bbox evaluation with default parameters, written from pycocotools' documented algorithm with numpy:
an independent reference for the C# CocoEvaluator.

Usage: /usr/bin/python3 cocoeval_reference.py CASES.json RESULTS.json
CASES.json: {"cases": [{"images": [id...], "categories": [id...],
                        "annotations": [{"image_id", "category_id", "bbox": [x, y, w, h], "area", "iscrowd"}...],
                        "detections": [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}...]}...]}
RESULTS.json: {"results": [[AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl]...]}
"""
import json
import sys

try:
    import numpy as np
except ImportError:
    sys.stderr.write("numpy is missing for /usr/bin/python3 (Debian: apt-get install python3-numpy)\n")
    sys.exit(3)

IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
MAX_DETS = [1, 10, 100]
AREA_RNG = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]


def bbox_iou(dt_boxes, gt_boxes, crowd):
    """maskApi's bbIou, vectorised: [D, G]; a crowd region's union is the detection's area."""
    d = np.asarray(dt_boxes, dtype=np.float64).reshape(-1, 4)[:, None, :]
    g = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)[None, :, :]
    w = np.minimum(d[..., 2] + d[..., 0], g[..., 2] + g[..., 0]) - np.maximum(d[..., 0], g[..., 0])
    h = np.minimum(d[..., 3] + d[..., 1], g[..., 3] + g[..., 1]) - np.maximum(d[..., 1], g[..., 1])
    inter = w * h
    da = d[..., 2] * d[..., 3]
    ga = g[..., 2] * g[..., 3]
    union = np.where(np.asarray(crowd, dtype=bool)[None, :], da, da + ga - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
    return np.where((w <= 0) | (h <= 0), 0.0, iou)


def evaluate_image(gts, dts, ious, rng):
    """One image, category and area range; dts come sorted by score and cut to 100, ious is [D, G] in gt order."""
    T, D, G = len(IOU_THRS), len(dts), len(gts)
    ignore = np.array([bool(g["iscrowd"]) or g["area"] < rng[0] or g["area"] > rng[1] for g in gts], dtype=bool)
    order = np.argsort(ignore.astype(np.int64), kind="mergesort")  # counted first, ignored last
    ignore = ignore[order]
    crowd = np.array([bool(gts[i]["iscrowd"]) for i in order], dtype=bool)
    ious = ious[:, order] if G and D else np.zeros((D, G))
    matched = np.zeros((T, D), dtype=bool)
    dt_ignore = np.zeros((T, D), dtype=bool)
    for t, thr in enumerate(IOU_THRS):
        taken = np.zeros(G, dtype=bool)
        for di in range(D):
            best_iou = min(thr, 1 - 1e-10)
            best = -1
            for gi in range(G):
                if taken[gi] and not crowd[gi]:
                    continue
                if best > -1 and not ignore[best] and ignore[gi]:
                    break
                if ious[di, gi] < best_iou:
                    continue
                best_iou = ious[di, gi]
                best = gi
            if best >= 0:
                matched[t, di] = True
                dt_ignore[t, di] = ignore[best]
                taken[best] = True
    area = np.array([d["bbox"][2] * d["bbox"][3] for d in dts], dtype=np.float64)
    outside = (area < rng[0]) | (area > rng[1])
    dt_ignore |= ~matched & outside[None, :]
    scores = np.array([d["score"] for d in dts], dtype=np.float64)
    return {"scores": scores, "matched": matched, "ignore": dt_ignore, "counted": int(np.count_nonzero(~ignore))}


def evaluate(case):
    images = sorted(set(case["images"]))
    cats = sorted(set(case["categories"]))
    gts, dts = {}, {}
    for g in case["annotations"]:
        gts.setdefault((g["image_id"], g["category_id"]), []).append(g)
    for d in case["detections"]:
        dts.setdefault((d["image_id"], d["category_id"]), []).append(d)

    T, R, K, A, M = len(IOU_THRS), len(REC_THRS), len(cats), len(AREA_RNG), len(MAX_DETS)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    for k, cat in enumerate(cats):
        per_area = [[] for _ in AREA_RNG]
        for img in images:
            g = gts.get((img, cat), [])
            d = dts.get((img, cat), [])
            if not g and not d:
                continue
            d_order = np.argsort([-x["score"] for x in d], kind="mergesort")[:MAX_DETS[-1]]
            d = [d[i] for i in d_order]
            ious = bbox_iou([x["bbox"] for x in d], [x["bbox"] for x in g], [x["iscrowd"] for x in g])
            for a, rng in enumerate(AREA_RNG):
                per_area[a].append(evaluate_image(g, d, ious, rng))
        for a in range(A):
            E = per_area[a]
            if not E:
                continue
            counted = sum(e["counted"] for e in E)
            if counted == 0:
                continue
            for m, max_det in enumerate(MAX_DETS):
                scores = np.concatenate([e["scores"][:max_det] for e in E])
                order = np.argsort(-scores, kind="mergesort")
                matched = np.concatenate([e["matched"][:, :max_det] for e in E], axis=1)[:, order]
                ignore = np.concatenate([e["ignore"][:, :max_det] for e in E], axis=1)[:, order]
                tp_sum = np.cumsum(matched & ~ignore, axis=1).astype(np.float64)
                fp_sum = np.cumsum(~matched & ~ignore, axis=1).astype(np.float64)
                for t in range(T):
                    tp, fp = tp_sum[t], fp_sum[t]
                    nd = len(tp)
                    rc = tp / counted
                    pr = tp / (fp + tp + np.spacing(1))
                    recall[t, k, a, m] = rc[-1] if nd else 0
                    pr = np.maximum.accumulate(pr[::-1])[::-1] if nd else pr  # monotone from the right
                    at = np.searchsorted(rc, REC_THRS, side="left")
                    q = np.zeros(R)
                    reached = at < nd
                    q[reached] = pr[at[reached]]
                    precision[t, :, k, a, m] = q

    def summary(ap, iou_thr=None, area=0, max_det=100):
        m = MAX_DETS.index(max_det)
        s = precision if ap else recall
        if iou_thr is not None:
            s = s[np.where(iou_thr == IOU_THRS)[0]]
        s = s[:, :, :, area, m] if ap else s[:, :, area, m]
        kept = s[s > -1]
        return -1.0 if kept.size == 0 else float(np.mean(kept))

    return [summary(1), summary(1, iou_thr=.5), summary(1, iou_thr=.75),
            summary(1, area=1), summary(1, area=2), summary(1, area=3),
            summary(0, max_det=1), summary(0, max_det=10), summary(0),
            summary(0, area=1), summary(0, area=2), summary(0, area=3)]


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump({"results": [evaluate(c) for c in cases]}, f)


if __name__ == "__main__":
    main()
