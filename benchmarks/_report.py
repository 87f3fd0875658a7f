"""What both benchmarks do with their results: print the Markdown table, and write it and the rows
when asked (``--markdown FILE``, ``--json FILE``)."""

import json


def report(text, rows, markdown=None, json_path=None):
    print(text)
    if markdown:
        with open(markdown, "w") as f:
            f.write(text + "\n")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(rows, f, indent=2)
