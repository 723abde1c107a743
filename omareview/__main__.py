from omareview.cli import main

main()
