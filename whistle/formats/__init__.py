"""Date formats per language (FORMAT_MODULE_PATH): Django's English ones are in US order."""
