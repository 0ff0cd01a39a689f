"""Export writers: plain typed records of a conversation in, the bytes of each format out.

Pure (no Django, no database, no clock): a later step reads the archive into
:mod:`archive.export.records` and hands the files to the packaging.
"""
