"""Reading and rewriting the list files of a test dataset."""
import os


def read_list(root, split):
    with open(os.path.join(root, f"{split}.txt")) as handle:
        return handle.read().splitlines()


def write_list(root, split, lines):
    with open(os.path.join(root, f"{split}.txt"), "w") as handle:
        handle.write("".join(line + "\n" for line in lines))
