from maskroom.cli import main

main()
