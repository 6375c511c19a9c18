from limitwise.cli import main

main()
