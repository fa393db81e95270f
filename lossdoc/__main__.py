from lossdoc.cli import main

main(prog_name="lossdoc")
