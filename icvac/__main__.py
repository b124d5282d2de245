from icvac.cli import main

main()
