from cloudscan.cli import main

main()
