"""Train with TRL from the directory dtac's `export_trainer` wrote.

    accelerate launch train.py config.yaml      # or: python train.py config.yaml

config.yaml holds `mode` (sft or gkd), `model`, `data` (relative to this directory),
`config` (SFTConfig / GKDConfig keyword arguments) and `peft` (LoraConfig keyword
arguments, or null). Needs trl >= 0.16 (GKD's beta convention; see dtac's
docs/objectives.md), transformers, datasets and peft when `peft` is set.
"""
import os
import sys

import yaml
from datasets import load_dataset


def main(path):
    here = os.path.dirname(os.path.abspath(path))
    with open(path) as f:
        cfg = yaml.safe_load(f)
    data = load_dataset("json", data_files=os.path.join(here, cfg["data"]), split="train")
    peft_config = None
    if cfg.get("peft"):
        from peft import LoraConfig

        peft_config = LoraConfig(**cfg["peft"])
    args = dict(cfg["config"])
    args["output_dir"] = os.path.join(here, args["output_dir"])
    if cfg["mode"] == "gkd":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            from trl import GKDConfig, GKDTrainer
        except ImportError:  # newer TRL keeps GKD under experimental
            from trl.experimental.gkd import GKDConfig, GKDTrainer
        teacher = args.pop("teacher_model_name_or_path")
        tokenizer = AutoTokenizer.from_pretrained(cfg["model"])
        trainer = GKDTrainer(
            model=cfg["model"],
            teacher_model=AutoModelForCausalLM.from_pretrained(teacher),
            args=GKDConfig(**args),
            train_dataset=data,
            processing_class=tokenizer,
            peft_config=peft_config,
        )
    else:
        from trl import SFTConfig, SFTTrainer

        trainer = SFTTrainer(
            model=cfg["model"],
            args=SFTConfig(**args),
            train_dataset=data,
            peft_config=peft_config,
        )
    trainer.train()
    trainer.save_model(args["output_dir"])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "config.yaml")
