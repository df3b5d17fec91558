from storefront.cli import main

main()
