#!/usr/bin/env python3
"""Extracts dtac's quickstart subset of CHAMP from the `champ-dataset` 1.0.0 wheel.

CHAMP (Mao, Kim and Zhou, 2024; MIT licence, see LICENSE here) holds 270 competition
math problems with reference solutions and answers, and the recorded conversations of
four real models. This script keeps the problems whose reference answer a rule-based
checker can compare (an integer, a decimal, a fraction, or Yes/No: 118 problems) and,
for each, every model's zero-shot answer: its solution followed by its own one-sentence
summary of the final answer, exactly as recorded.

    pip download champ-dataset==1.0.0 --no-deps -d /tmp/champ
    python3 extract.py /tmp/champ/champ_dataset-1.0.0-py3-none-any.whl

Writes, next to this script:
- problems.jsonl: id, category, question, answer, reference (the reference solution);
- teachers.jsonl: the replay file of the three teacher models (GPT-3.5, GPT-4,
  GPT-4 Turbo): id, model, sample, response {text, finish_reason};
- student.jsonl: the "student" (PaLM 2 Medium) answers: id, question, answer.

Uses only the Python standard library; the output is deterministic.
"""

import json
import os
import re
import sys
import zipfile

WHEEL_MEMBER = "champ_dataset/dataset_files/v0.json"
TEACHERS = ["GPT-3.5", "GPT-4", "GPT-4 Turbo"]
STUDENT = "PaLM 2 Medium"
# Answers the checker can compare without a model: numbers, fractions, yes/no.
CHECKABLE = re.compile(r"^(-?\d+(\.\d+)?(/\d+)?|Yes|No)$")


def zero_shot(problem, model):
    """The model's zero-shot answer and whether generation hit the length limit."""
    messages = problem["conversations"][model + "|0-Shot"]["messages"]
    replies = [m for m in messages if m["role"].startswith("Model.")]
    text = "\n\n".join((m["text"] or "").strip() for m in replies).strip()
    truncated = any(m["error"] == "LENGTH_CURRENT" for m in replies)
    return text, truncated


def main(wheel):
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read(WHEEL_MEMBER))
    here = os.path.dirname(os.path.abspath(__file__))
    problems = [
        p
        for p in data["problems"].values()
        if CHECKABLE.match(p["_answer"].strip())
    ]
    problems.sort(key=lambda p: natural(p["identifier"]))
    with open(os.path.join(here, "problems.jsonl"), "w", encoding="utf-8") as out:
        for p in problems:
            reference = " ".join(s["_text"] for s in p["solution"]["steps"])
            row = {
                "id": p["identifier"],
                "category": p["category"],
                "question": p["_text"],
                "answer": p["_answer"].strip(),
                "reference": reference,
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    with open(os.path.join(here, "teachers.jsonl"), "w", encoding="utf-8") as out:
        for p in problems:
            for model in TEACHERS:
                text, truncated = zero_shot(p, model)
                row = {
                    "id": p["identifier"],
                    "model": model,
                    "sample": 0,
                    "response": {
                        "text": text,
                        "finish_reason": "length" if truncated else "stop",
                    },
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    with open(os.path.join(here, "student.jsonl"), "w", encoding="utf-8") as out:
        for p in problems:
            text, _ = zero_shot(p, STUDENT)
            row = {"id": p["identifier"], "question": p["_text"], "answer": text}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(problems)} problems written to {here}")


def natural(identifier):
    """P_Sequence_10 after P_Sequence_9."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", identifier)]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: extract.py PATH/TO/champ_dataset-1.0.0-py3-none-any.whl")
    main(sys.argv[1])
