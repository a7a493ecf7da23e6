"""What the ad says on screen: the frames worth reading, prepared and read with Tesseract.

Plain functions on plain data; the ``text`` task is a thin layer over ``read.read_texts``.
Speech (the voice-over) is a sibling step to come and will sit beside this package.
"""
