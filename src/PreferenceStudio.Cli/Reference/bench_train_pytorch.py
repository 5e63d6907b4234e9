#!/usr/bin/env python3
"""PyTorch reference for `studio bench train`.

Trains the same Bradley-Terry ensemble on the same kind of data with the same batches as the studio's trainer
(src/PreferenceStudio.Learning/BradleyTerryTrainer.cs): K members stored as batched weights [K, in, out] run by one
bmm per layer, LeakyReLU(0.01) hidden layers, a tanh output, per-step rewards summed over each segment, the
Bradley-Terry cross-entropy of R(right) - R(left) per member (each member's mean, summed), Adam (lr 3e-4, L2 1e-4),
each member shuffling its own order of the pairs every epoch, the loss read back after every batch. One warm-up epoch,
then one timed epoch. The last stdout line is one JSON object with the fields `studio bench train` prints.

Synthetic data as in the studio's benchmark: the state is `features` numbers drawn from U(-1, 1), a random action
a ~ U(-1, 1) moves it to 0.9 * state + a, the step features are the next state, and a pair is labelled by which
segment's summed features are larger.

Needs Debian's python3-torch (and libopenblas0-pthread for its BLAS):
    python3 bench_train_pytorch.py --threads 1
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--members", type=int, default=3)
    p.add_argument("--segment-length", type=int, default=50)
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--hidden", default="256,256,256")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


def segments(count, length, features, gen):
    state = torch.rand(count, features, generator=gen) * 2 - 1
    steps = []
    for _ in range(length):
        action = torch.rand(count, 1, generator=gen) * 2 - 1
        state = 0.9 * state + action
        steps.append(state)
    return torch.stack(steps, 1)  # [count, length, features]: each step's features are its next state


class Ensemble(torch.nn.Module):
    def __init__(self, members, sizes):
        super().__init__()
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / fan_in ** 0.5  # torch.nn.Linear's default initialisation
            self.weights.append(torch.nn.Parameter(torch.empty(members, fan_in, fan_out).uniform_(-bound, bound)))
            self.biases.append(torch.nn.Parameter(torch.empty(members, 1, fan_out).uniform_(-bound, bound)))

    def forward(self, x):  # [K, R, F] -> [K, R]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = x.bmm(w).add_(b)
            if i < last:
                x = F.leaky_relu(x, 0.01)
        return x.squeeze(-1).tanh()


def main():
    a = parse()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    hidden = [int(h) for h in a.hidden.split(",") if h.strip()]
    k, n, t, f = a.members, a.pairs, a.segment_length, a.features
    left = segments(n, t, f, gen)
    right = segments(n, t, f, gen)
    left_mask = torch.ones(n, t)
    right_mask = torch.ones(n, t)
    diff = right.sum((1, 2)) - left.sum((1, 2))
    target = torch.where(diff > 0, 1.0, torch.where(diff < 0, 0.0, 0.5))

    net = Ensemble(k, [f] + hidden + [1])
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-4, weight_decay=1e-4)

    def returns(x, mask, idx, b):
        steps = net(x.index_select(0, idx).reshape(k, b * t, f)).reshape(k, b, t)
        return (steps * mask.index_select(0, idx).reshape(k, b, t)).sum(2)

    def epoch():
        net.train()
        orders = [torch.randperm(n, generator=gen) for _ in range(k)]
        loss_sum = 0.0
        for start in range(0, n, a.batch):
            count = min(a.batch, n - start)
            idx = torch.cat([o[start:start + count] for o in orders])
            d = returns(right, right_mask, idx, count) - returns(left, left_mask, idx, count)
            y = target.index_select(0, idx).reshape(k, count)
            loss = F.binary_cross_entropy_with_logits(d, y) * k
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() / k * count
        return loss_sum / n

    clock = time.perf_counter()
    epoch()
    warmup = time.perf_counter() - clock
    clock = time.perf_counter()
    loss = epoch()
    seconds = time.perf_counter() - clock
    print(json.dumps({
        "benchmark": "train", "model": "pytorch", "torch_version": torch.__version__,
        "pairs": n, "members": k, "hidden": hidden, "segment_length": t, "feature_size": f, "batch": a.batch,
        "threads": a.threads, "device": "cpu",
        "warmup_seconds": round(warmup, 4), "seconds": round(seconds, 4),
        "pairs_per_second": round(n / seconds, 1), "loss": round(loss, 4),
    }))


if __name__ == "__main__":
    main()
