from lossdoc.cli import main_entry

main_entry()
