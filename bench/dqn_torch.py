#!/usr/bin/env python3
"""The PyTorch reference of `npm run bench -- --dqn`: the MinAtar DQN network's training step and
acting forward pass on CPU, written as a plain CleanRL-style step, on the data and initial weights
that `distmt bench dqn --dump DIR` wrote.

    /usr/bin/python3 bench/dqn_torch.py DIR [--seconds S] [--threads N]

Prints one JSON object: training steps and batch-1 inferences per CPU-second and per wall-clock
second, and the largest difference between PyTorch's gradient of the Huber TD loss and distmt's
reference gradient on the dumped batch (relative to the gradient's largest magnitude).

Shares no code with distmt. Same network (Conv2d(C,16,3) → ReLU → Linear(1024,128) → ReLU →
Linear(128,A)), batch, Huber (smooth L1) loss, Adam and target-network forward as distmt's step.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class QNetwork(nn.Module):
    def __init__(self, channels, actions, conv=16, hidden=128):
        super().__init__()
        self.conv = nn.Conv2d(channels, conv, kernel_size=3, stride=1)
        self.fc = nn.Linear(conv * 8 * 8, hidden)
        self.out = nn.Linear(hidden, actions)

    def forward(self, x):
        x = F.relu(self.conv(x))
        x = F.relu(self.fc(x.view(x.size(0), -1)))
        return self.out(x)


def load(d, name):
    return torch.from_numpy(np.load(os.path.join(d, name + ".npy")).astype(np.float32))


def timed(seconds, once):
    for _ in range(5):
        once()
    c0, t0, n = time.process_time(), time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        once()
        n += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"count": n, "wallSeconds": wall, "cpuSeconds": cpu, "perWallSecond": n / wall, "perCpuSecond": n / cpu}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    meta = json.load(open(os.path.join(a.dir, "meta.json")))
    shape = meta["shape"]
    q = QNetwork(shape["channels"], shape["actions"], shape["convChannels"], shape["hidden"])
    with torch.no_grad():
        for p, n in zip([q.conv.weight, q.conv.bias, q.fc.weight, q.fc.bias, q.out.weight, q.out.bias],
                        ["w1", "b1", "w2", "b2", "w3", "b3"]):
            p.copy_(load(a.dir, n))
    target = QNetwork(shape["channels"], shape["actions"], shape["convChannels"], shape["hidden"])
    target.load_state_dict(q.state_dict())
    obs, next_obs = load(a.dir, "obs"), load(a.dir, "next_obs")
    actions = load(a.dir, "actions").long()
    rewards, discount = load(a.dir, "rewards"), load(a.dir, "discount")
    opt = torch.optim.Adam(q.parameters(), lr=meta["learningRate"], betas=(meta["adamBeta1"], meta["adamBeta2"]),
                           eps=meta["adamEpsilon"])

    def loss_fn():
        with torch.no_grad():
            y = rewards + discount * target(next_obs).max(dim=1).values
        qa = q(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        return F.smooth_l1_loss(qa, y)

    # The gradient on the dumped batch, against distmt's reference.
    opt.zero_grad()
    loss = loss_fn()
    loss.backward()
    diff, scale = 0.0, 0.0
    for p, n in zip([q.conv.weight, q.conv.bias, q.fc.weight, q.fc.bias, q.out.weight, q.out.bias],
                    ["w1", "b1", "w2", "b2", "w3", "b3"]):
        ref = load(a.dir, "grad_" + n)
        diff = max(diff, float((p.grad - ref).abs().max()))
        scale = max(scale, float(ref.abs().max()))

    def step():
        opt.zero_grad()
        l = loss_fn()
        l.backward()
        opt.step()

    train = timed(a.seconds, step)
    one = obs[:1].clone()

    def act():
        with torch.no_grad():
            return int(q(one).argmax(dim=1)[0])

    infer = timed(a.seconds, act)
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "trainSteps": train, "inferences": infer,
        "loss": float(loss), "distmtLoss": meta["loss"], "gradMaxRelDiff": diff / scale if scale > 0 else None,
    }))


if __name__ == "__main__":
    sys.exit(main())
