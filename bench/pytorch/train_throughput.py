#!/usr/bin/env python3
"""PyTorch reference for bench/train-throughput.ts: the same models, batch, precision and
optimizer, timed the same way, printed in the same JSON-line format, so the browser/Dawn
figures can be read against what the GPU does under a mature framework.

Models mirror src/engine/models exactly (the script checks parameter counts against the
engine's countCost): ResNet-20/56 for CIFAR with option-B shortcuts (identity, or strided
1x1 conv + BN where the width changes), VGG16-BN for CIFAR (13 conv+BN+ReLU, 5 max-pools,
global pool, linear 512->10), and the tiny demo net. Convolutions have no bias, as in the
engine.

A step is forward + cross-entropy + backward + SGD (momentum 0.9, weight decay 5e-4) on a
fixed random batch already on the device; fp32 with TF32 off unless --tf32. After warm-up,
each timed window ends with torch.cuda.synchronize() so the GPU work is really finished; the
figure is the median over windows.

    python3 bench/pytorch/train_throughput.py                      # all models, batch 128
    python3 bench/pytorch/train_throughput.py --model resnet56 --batch 256
"""

import argparse
import datetime
import json
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Trainable parameter counts of src/engine/cost.ts countCost (BN running stats excluded).
ENGINE_PARAMS = {"tiny": 10138, "resnet20": 272474, "resnet56": 855770, "vgg16": 14724042}
ENGINE_MACS = {"tiny": 1585472, "resnet20": 40813184, "resnet56": 125747840, "vgg16": 313201664}


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        # Option B, as the engine builds it: a projection exactly where the stride changes.
        self.down = None
        if stride != 1:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(h))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNetCifar(nn.Module):
    def __init__(self, blocks_per_stage, width=16, num_classes=10):
        super().__init__()
        widths = [width, 2 * width, 4 * width]
        self.stem = conv3x3(3, widths[0])
        self.stem_bn = nn.BatchNorm2d(widths[0])
        layers = []
        cin = widths[0]
        for s, w in enumerate(widths):
            for b in range(blocks_per_stage):
                stride = 2 if s > 0 and b == 0 else 1
                layers.append(BasicBlock(cin, w, stride))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(widths[2], num_classes)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        x = self.layers(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class Vgg16Bn(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        layers = []
        cin = 3
        for c in VGG16_CFG:
            if c == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [conv3x3(cin, c), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
                cin = c
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        # After five pools the map is 1x1: global average pooling is the flatten.
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class Tiny(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = conv3x3(3, 16, 2)
        self.stem_bn = nn.BatchNorm2d(16)
        self.conv1 = conv3x3(16, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = conv3x3(16, 16)
        self.bn2 = nn.BatchNorm2d(16)
        self.head = conv3x3(16, 32)
        self.head_bn = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        s = F.relu(self.stem_bn(self.stem(x)))
        h = F.relu(self.bn1(self.conv1(s)))
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(h)) + s), 2)
        x = F.relu(self.head_bn(self.head(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


MODELS = {
    "tiny": Tiny,
    "resnet20": lambda: ResNetCifar(3),
    "resnet56": lambda: ResNetCifar(9),
    "vgg16": Vgg16Bn,
}


def count_macs(model, device):
    """Conv and linear multiply-accumulates for one 32x32 image (the engine's convention)."""
    total = [0]

    def conv_hook(m, _inp, out):
        kh, kw = m.kernel_size
        total[0] += (m.in_channels // m.groups) * m.out_channels * kh * kw * out.shape[2] * out.shape[3]

    def linear_hook(m, _inp, _out):
        total[0] += m.in_features * m.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, 32, 32, device=device))
    model.train()
    for h in hooks:
        h.remove()
    return total[0]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def device_string(device):
    import os

    host = "CPU: %s x%d" % (cpu_model(), os.cpu_count() or 0)
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        return "pytorch %s cuda %s: %s (%d MiB); %s" % (torch.__version__, torch.version.cuda, p.name, p.total_memory // 2**20, host)
    return "pytorch %s cpu; %s" % (torch.__version__, host)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(name, args, device, stamp):
    torch.manual_seed(1)
    model = MODELS[name]().to(device).train()
    params = sum(p.numel() for p in model.parameters())
    if params != ENGINE_PARAMS[name]:
        raise SystemExit("%s: %d parameters, the engine's model has %d: the architectures differ" % (name, params, ENGINE_PARAMS[name]))
    macs = count_macs(model, device)
    if macs != ENGINE_MACS[name]:
        raise SystemExit("%s: %d MACs/image, the engine counts %d: the architectures differ" % (name, macs, ENGINE_MACS[name]))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    g = torch.Generator(device="cpu").manual_seed(1)
    x = torch.randn(args.batch, 3, 32, 32, generator=g).to(device)
    y = (torch.arange(args.batch) * 7 + 1).remainder(10).to(device)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = []
    for _ in range(args.windows):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        sync(device)
        seconds.append(time.perf_counter() - t0)
    rates = [args.batch * args.steps / s for s in seconds]
    note = "median of %d windows x %d steps after %d warm-up (range %.1f-%.1f images/s); fp32%s, cudnn.benchmark=%s" % (
        args.windows,
        args.steps,
        args.warmup,
        min(rates),
        max(rates),
        " with TF32" if args.tf32 else ", TF32 off",
        args.cudnn_benchmark,
    )
    tag = dict(stamp, model=name, batch=args.batch)
    figures = [
        dict(tag, figure="train images/s", value=statistics.median(rates), unit="images/s", note=note),
        dict(tag, figure="step time", value=statistics.median(seconds) / args.steps * 1000, unit="ms"),
    ]
    if device.type == "cuda":
        figures.append(dict(tag, figure="tensor memory peak", value=torch.cuda.max_memory_allocated(device), unit="bytes"))
    del model, opt, x, y
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(MODELS), action="append", help="repeatable; default resnet56, resnet20, vgg16")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--steps", type=int, default=10, help="steps per timed window")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 (the tfjs figures are strict fp32)")
    ap.add_argument("--no-cudnn-benchmark", dest="cudnn_benchmark", action="store_false")
    args = ap.parse_args()
    for k in ("batch", "windows", "steps"):
        if getattr(args, k) < 1:
            ap.error("--%s must be >= 1" % k)
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    stamp = {
        "bench": "train-throughput",
        "backend": "pytorch-" + device.type,
        "device": device_string(device),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    figures = []
    for name in args.model or ["resnet56", "resnet20", "vgg16"]:
        for f in measure(name, args, device, stamp):
            print(json.dumps(f), flush=True)
            figures.append(f)
    print("")
    for f in figures:
        print("%-10s %5d  %-20s %14.2f  %s" % (f["model"], f["batch"], f["figure"], f["value"], f["unit"]))
    print("device: %s" % stamp["device"], file=sys.stdout)


if __name__ == "__main__":
    main()
