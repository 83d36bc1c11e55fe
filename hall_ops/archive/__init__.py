"""The electronic archive (电子文件归档): a verifiable package per finished case.

``contributors`` (what other parts add: scans of materials, e-licences), ``package``
(writing one package), ``bag`` (its manifests and their check), ``jobs`` (the durable
path from a finished case to its package), ``export`` (handing a date range over to the
archive office). docs/archive.md states the layout and the metadata carried.
"""
