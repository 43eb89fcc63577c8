"""The PyTorch side of benches/training.rs: a plain Qwen3 decoder in torch, loading the
same safetensors checkpoint, trained with AdamW on the same batch and objective.

    python torch_train.py STUDENT TEACHER MODE B T STEPS THREADS

Prints one JSON line: tokens_per_second (sequence tokens over the timed steps after the
warm-up), first_loss, peak_bytes (VmHWM).
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

WARMUP = 2


class Qwen3(torch.nn.Module):
    def __init__(self, cfg, tensors):
        super().__init__()
        self.cfg = cfg
        self.params = torch.nn.ParameterDict(
            {k.replace(".", "__"): torch.nn.Parameter(v.float()) for k, v in tensors.items()}
        )
        d = cfg["head_dim"]
        inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
        self.register_buffer("inv_freq", inv, persistent=False)

    def p(self, name):
        return self.params[name.replace(".", "__")]

    def norm(self, x, w):
        x32 = x.float()
        return x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.cfg["rms_norm_eps"]) * w

    def rope(self, x, cos, sin):
        half = x.shape[-1] // 2
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    def forward(self, ids):
        c = self.cfg
        b, t = ids.shape
        hq, hk, d = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        x = F.embedding(ids, self.p("model.embed_tokens.weight"))
        ang = torch.arange(t, dtype=torch.float32)[:, None] * self.inv_freq[None, :]
        cos, sin = ang.cos(), ang.sin()
        for i in range(c["num_hidden_layers"]):
            n = f"model.layers.{i}."
            h = self.norm(x, self.p(n + "input_layernorm.weight"))
            q = (h @ self.p(n + "self_attn.q_proj.weight").T).view(b, t, hq, d)
            k = (h @ self.p(n + "self_attn.k_proj.weight").T).view(b, t, hk, d)
            v = (h @ self.p(n + "self_attn.v_proj.weight").T).view(b, t, hk, d)
            q = self.norm(q, self.p(n + "self_attn.q_norm.weight")).transpose(1, 2)
            k = self.norm(k, self.p(n + "self_attn.k_norm.weight")).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            a = F.scaled_dot_product_attention(q, k, v.transpose(1, 2), is_causal=True, enable_gqa=True)
            x = x + a.transpose(1, 2).reshape(b, t, hq * d) @ self.p(n + "self_attn.o_proj.weight").T
            h = self.norm(x, self.p(n + "post_attention_layernorm.weight"))
            g = F.silu(h @ self.p(n + "mlp.gate_proj.weight").T) * (h @ self.p(n + "mlp.up_proj.weight").T)
            x = x + g @ self.p(n + "mlp.down_proj.weight").T
        x = self.norm(x, self.p("model.norm.weight"))
        head = self.p("model.embed_tokens.weight") if c.get("tie_word_embeddings") else self.p("lm_head.weight")
        return x, head


def load(path):
    with open(os.path.join(path, "config.json")) as f:
        cfg = json.load(f)
    cfg.setdefault("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    tensors = {}
    for name in sorted(os.listdir(path)):
        if name.endswith(".safetensors"):
            tensors.update(load_file(os.path.join(path, name)))
    return Qwen3(cfg, tensors)


def batch(vocab, b, t):
    # The same xorshift as benches/training.rs.
    s = 0x2545F4914F6CDD1D
    mask = (1 << 64) - 1
    rows = []
    for _ in range(b):
        row = []
        for _ in range(t):
            s ^= (s << 13) & mask
            s ^= s >> 7
            s ^= (s << 17) & mask
            row.append(s % min(vocab, 259))
        rows.append(row)
    return torch.tensor(rows, dtype=torch.long)


def peak_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    student_dir, teacher_dir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    b, t, steps, threads = (int(a) for a in sys.argv[4:8])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = load(student_dir)
    teacher = load(teacher_dir) if mode == "kd" else None
    if teacher is not None:
        teacher.requires_grad_(False)
    ids = batch(model.cfg["vocab_size"], b, t)
    start = t // 4
    # Hidden state at i - 1 predicts token i, for the trained tokens i >= start.
    targets = ids[:, start:]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    first_loss, timed, t0 = None, 0, None
    for step in range(WARMUP + steps):
        if step == WARMUP:
            t0 = time.perf_counter()
        hidden, head = model(ids)
        rows = hidden[:, start - 1 : t - 1].reshape(-1, hidden.shape[-1])
        logits = rows @ head.T
        if teacher is None:
            loss = F.cross_entropy(logits, targets.reshape(-1))
        else:
            with torch.no_grad():
                th, thead = teacher(ids)
                tl = th[:, start - 1 : t - 1].reshape(-1, th.shape[-1]) @ thead.T
            lq = F.log_softmax(tl, -1)
            lp = F.log_softmax(logits, -1)
            loss = (lq.exp() * (lq - lp)).sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if first_loss is None:
            first_loss = loss.item()
        if step >= WARMUP:
            timed += b * t
    seconds = time.perf_counter() - t0
    print(json.dumps({"tokens_per_second": timed / seconds, "first_loss": first_loss, "peak_bytes": peak_bytes()}))


if __name__ == "__main__":
    main()
