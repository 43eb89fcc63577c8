"""The PyTorch side of `cargo bench --bench objectives`: the same objectives on the same
tensors, written the way a PyTorch trainer writes them (log_softmax, exp, sums; autograd
for the gradient), timed and measured in this process.

Usage: torch_objectives.py INPUT.safetensors OBJECTIVE MODE REPS [key=value ...]
  OBJECTIVE  forward_kl | reverse_kl | jsd | clipped_kl | top_k | sampled
  MODE       loss | grad
Prints one JSON line: {"loss", "median_s", "peak_extra_bytes", "grad_sum"}.

Definitions (docs/objectives.md): q = teacher, p = student, both at temperature tau;
token mean over the mask.
"""

import json
import statistics
import sys
import time

import torch
from safetensors.torch import load_file


def rss_bytes(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def reset_peak():
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def objective(name, params):
    tau = float(params.get("temperature", 1.0))

    def per_token(student, teacher, tokens):
        logp = torch.log_softmax(student / tau, dim=-1)
        logq = torch.log_softmax(teacher / tau, dim=-1)
        if name == "forward_kl":
            return (logq.exp() * (logq - logp)).sum(-1)
        if name == "reverse_kl":
            return (logp.exp() * (logp - logq)).sum(-1)
        if name == "clipped_kl":
            kl = (logq.exp() * (logq - logp)).sum(-1)
            return torch.clamp(kl, max=float(params.get("clip", 0.1)))
        if name == "jsd":
            beta = float(params.get("beta", 0.5))
            mix = torch.logsumexp(
                torch.stack([logq + torch.log(torch.tensor(beta)),
                             logp + torch.log(torch.tensor(1 - beta))]), dim=0)
            kl_q = (logq.exp() * (logq - mix)).sum(-1)
            kl_p = (logp.exp() * (logp - mix)).sum(-1)
            return beta * kl_q + (1 - beta) * kl_p
        if name == "top_k":
            k = int(params.get("k", 32))
            tail = params.get("tail", "false") == "true"
            top_q, idx = logq.topk(k, dim=-1)
            top_p = logp.gather(-1, idx)
            if tail:
                q_tail = torch.log1p(-top_q.exp().sum(-1).clamp(max=1 - 1e-7))
                p_tail = torch.log1p(-top_p.exp().sum(-1).clamp(max=1 - 1e-7))
                body = (top_q.exp() * (top_q - top_p)).sum(-1)
                return body + q_tail.exp() * (q_tail - p_tail)
            top_q = top_q - torch.logsumexp(top_q, -1, keepdim=True)
            top_p = top_p - torch.logsumexp(top_p, -1, keepdim=True)
            return (top_q.exp() * (top_q - top_p)).sum(-1)
        if name == "sampled":
            clamp = float(params.get("clamp", 20.0))
            y = tokens.long().unsqueeze(-1)
            r = (logq.gather(-1, y) - logp.gather(-1, y)).squeeze(-1).clamp(max=clamp)
            return r.exp() - 1 - r
        raise SystemExit(f"unknown objective {name}")

    return per_token


def main():
    path, name, mode, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    params = dict(arg.split("=", 1) for arg in sys.argv[5:])
    tensors = load_file(path)
    student, teacher = tensors["student"], tensors["teacher"]
    mask = tensors["mask"].float()
    tokens = tensors.get("tokens")
    fn = objective(name, params)

    def run():
        s = student.detach().requires_grad_(mode == "grad")
        loss = (fn(s, teacher, tokens) * mask).sum() / mask.sum().clamp(min=1)
        if mode == "grad":
            loss.backward()
            return loss.item(), s.grad
        return loss.item(), None

    run()  # warm-up: allocator pools and thread start-up are not what is measured
    reset_peak()
    base = rss_bytes("VmRSS")
    times, result = [], None
    for _ in range(reps):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
        del result
        result = None
    peak = rss_bytes("VmHWM") - base
    loss, grad = run()
    print(json.dumps({
        "loss": loss,
        "median_s": statistics.median(times),
        "peak_extra_bytes": peak,
        "grad_sum": float(grad.double().abs().sum()) if grad is not None else None,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
