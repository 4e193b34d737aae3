from draftsman_gen.cli import main

main()
