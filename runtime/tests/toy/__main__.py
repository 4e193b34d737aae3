import sys

from draftsman_runtime.cli import main
from toy.registry import REGISTRY

if __name__ == "__main__":
    sys.exit(main(REGISTRY))
