from adref.cli import main

main()
