"""Reads text crops with rapidocr, for bench.design_quality; runs in .venv-bench (see requirements-bench.txt).

    .venv-bench/bin/python bench/_ocr_worker.py JOBS.json   ->  a JSON list of the text read from each job's image
"""

import json
import sys

from rapidocr_onnxruntime import RapidOCR


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        jobs = json.load(handle)
    engine = RapidOCR()
    read = []
    for job in jobs:
        result, _elapse = engine(job["path"])
        read.append(" ".join(line[1] for line in result or []))
    json.dump(read, sys.stdout)


if __name__ == "__main__":
    main()
