"""The real Đà Nẵng open data portal (congdulieu.vn / opendata.danang.gov.vn): ids, URL shapes, API client.

See ``docs/concepts/sources.md``, "The Đà Nẵng portal": dataset pages ``/dulieuchitiet/<id>``,
listing pages ``/dichvu?p=<page>``, data API ``/api/dataset/<base64 of the numeric id>?limit=&offset=``.
"""
