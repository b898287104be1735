"""The PyTorch side of the training benchmark: the same models as Portal.Training (SmallResNet, TinyYolo),
the same batch shapes, loss and Adam step, timed the same way (one device sync at the end). Prints one JSON line."""
import argparse, json, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, inp, out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)
        self.conv2 = nn.Conv2d(out, out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.shortcut = None
        if stride != 1 or inp != out:
            self.shortcut = nn.Sequential(nn.Conv2d(inp, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class SmallResNet(nn.Module):
    def __init__(self, classes=4, width=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.block1 = BasicBlock(width, width, 1)
        self.block2 = BasicBlock(width, width * 2, 2)
        self.block3 = BasicBlock(width * 2, width * 4, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width * 4, classes)

    def forward(self, x):
        x = self.block3(self.block2(self.block1(self.stem(x))))
        return self.fc(self.pool(x).flatten(1))


def conv_block(inp, out):
    return nn.Sequential(nn.Conv2d(inp, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.LeakyReLU(0.1))


class TinyYolo(nn.Module):
    def __init__(self, classes=3, anchors=2, width=16):
        super().__init__()
        self.anchors, self.classes = anchors, classes
        self.backbone = nn.Sequential(
            conv_block(3, width), nn.MaxPool2d(2),
            conv_block(width, width * 2), nn.MaxPool2d(2),
            conv_block(width * 2, width * 4), nn.MaxPool2d(2),
            conv_block(width * 4, width * 4))
        self.head = nn.Conv2d(width * 4, anchors * (5 + classes), 1)

    def forward(self, x):
        raw = self.head(self.backbone(x))
        b, _, g1, g2 = raw.shape
        return raw.view(b, self.anchors, 5 + self.classes, g1, g2).permute(0, 1, 3, 4, 2).contiguous()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="classifier")
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    dev = torch.device(a.device)
    classifier = a.model == "classifier"
    batch = 64 if classifier else 32
    net = (SmallResNet() if classifier else TinyYolo()).to(dev)
    net.train()
    x = torch.rand(batch, 3, 32, 32, device=dev) if classifier else torch.rand(batch, 3, 64, 64, device=dev)
    labels = torch.randint(0, 4, (batch,), device=dev)
    target = torch.rand(batch, 2, 8, 8, 8, device=dev)
    opt = torch.optim.Adam(net.parameters(), 0.001)

    def run(count):
        start = time.perf_counter()
        for i in range(count):
            out = net(x)
            if classifier:
                loss = F.cross_entropy(out, labels)
            else:
                loss = F.binary_cross_entropy_with_logits(out[..., 4], target[..., 4]) + F.mse_loss(out, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i == count - 1:
                loss.item()  # waits for the device, like the TorchSharp side
        return (time.perf_counter() - start) * 1000 / count

    run(a.warmup)
    ms = run(a.steps)
    name = torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu"
    print(json.dumps({"model": a.model, "ms_per_step": ms, "torch": torch.__version__, "device": name, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
