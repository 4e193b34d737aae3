"""`python -m draftsman_gen`: the command line, as the `draftsman-gen` script runs it."""

from draftsman_gen.cli import main

main()
